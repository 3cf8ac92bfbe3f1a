/**
 * The stage locks, inbound waiting lists and transitions of one pipeline: CodePipeline's execution rules
 * as a pure state machine. The coordinator workflow feeds it events and carries out the effects it returns
 * (signals to executions); it never decides anything itself. Unit-tested rule by rule.
 *
 * - SUPERSEDED: one execution per stage; at most one waits in front of it; the newer of two waiting
 *   executions supersedes the older, which never runs again.
 * - QUEUED: one execution per stage; the others wait in a FIFO queue in front of it, in arrival order.
 * - Stage concurrency (`concurrency: N`, SUPERSEDED and QUEUED): up to N executions hold the stage at once,
 *   a pool of N slots; the rules above apply to those waiting for a slot. One slot is the default.
 * - PARALLEL: no locks, no queues (PARALLEL executions do not ask; a request is granted at once).
 * - A disabled transition holds every arrival in front of its stage; on enabling, the one that waits enters
 *   (QUEUED: the head). A stage shut by its calendar (outside its windows, or frozen) holds arrivals the
 *   same way (`WINDOW`), and opens by itself.
 * - Leaving a stage (success, failure or stop) releases its lock at once and admits the next.
 * - A newer execution entering a stage where an older one failed or stopped overtakes it: the older one can
 *   no longer be retried (SUPERSEDED and QUEUED alike: the seed's rule is about the flow, not a mode).
 * - An older revision never runs a stage after a newer one: a request from an execution older than the
 *   stage's latest is refused (the requester is superseded) when it is a retry, or in SUPERSEDED mode, where
 *   the newer would have superseded it anyway. Overtaking arrives at the execution as a signal; this rule
 *   holds whatever the timing.
 */
import type { ExecutionMode } from '../shared/definition.js';
import type { StageState, Transition, WaitReason } from '../shared/pipeline-state.js';

export interface Inbound {
  executionId: string;
  /** The execution number: larger is newer. */
  n: number;
  since: string;
  /** It retries this stage (it failed or stopped here before). */
  retry?: boolean;
  /** QUEUED, first stage: its place was kept when its number was given; it has not asked yet. */
  reserved?: boolean;
}

/** How long a kept place waits for its execution before the watcher may find it never started. */
export const RESERVATION_GRACE_MS = 30_000;

/** A stage its calendar shuts (outside its windows, or a freeze): why, and when it opens (null: not in sight). */
export interface Shut {
  reason: string;
  opensAt: string | null;
}

/** An execution in a stage, holding one of its slots. */
export interface Holder {
  executionId: string;
  n: number;
}

export interface StageData {
  /** Who holds the stage, in the order they entered it (at most `slots`). */
  holders: Holder[];
  /** How many executions may hold the stage at once (its `concurrency`); absent: 1. */
  slots?: number;
  /** Shut by its calendar: why, and when it opens. */
  shut?: Shut;
  /**
   * More than one slot: executions that failed or stopped here while newer ones may still enter, so that the
   * first newer one to enter overtakes them (with one slot, `latest` tells).
   */
  unfinished?: Holder[];
  inbound: Inbound[];
  transition: Transition;
  latest: { executionId: string; n: number; status: string } | null;
}

export interface LockTableData {
  mode: ExecutionMode;
  stages: Record<string, StageData>;
}

/** The stage data Paso wrote before stage concurrency: one `holder`, no `holders`. */
type StoredStageData = Omit<StageData, 'holders'> & { holders?: Holder[]; holder?: string | null };

/** The stages with more than one slot, by name (`concurrency` of the definition's stages). */
export type Slots = Record<string, number>;

/** An admin let an execution through a shut window (recorded on the execution). */
export interface WindowPass {
  by: string;
  reason: string;
  at: string;
}

export type Effect =
  | { type: 'grant'; executionId: string; stage: string; pass?: WindowPass }
  | { type: 'wait'; executionId: string; stage: string; for: WaitReason; opensAt?: string | null }
  | { type: 'supersede'; executionId: string; stage: string; by: string | null }
  | { type: 'overtake'; executionId: string; stage: string; by: string };

export type LeaveOutcome = 'Succeeded' | 'Failed' | 'Stopped';

const OPEN: Transition = { enabled: true, reason: null, by: null, at: null };

export class LockTable {
  /**
   * The rules of Paso 0.2 (overtaking in QUEUED mode, refusing older requests). The coordinator turns them
   * off while it replays a history written before them, so that it sends the signals it sent then.
   */
  current = true;

  constructor(private readonly data: LockTableData) {
    // A table carried over from before stage concurrency: its one holder becomes the first of `holders`.
    for (const s of Object.values(data.stages) as StoredStageData[]) {
      if (s.holders) continue;
      const holder = s.holder ?? null;
      s.holders = holder ? [{ executionId: holder, n: s.latest?.executionId === holder ? s.latest.n : 0 }] : [];
      delete s.holder;
    }
  }

  static create(mode: ExecutionMode, stages: readonly string[], slots: Slots = {}): LockTable {
    const t = new LockTable({ mode, stages: {} });
    t.syncStages(stages);
    t.setSlots(stages, slots);
    return t;
  }

  get mode(): ExecutionMode {
    return this.data.mode;
  }

  toJSON(): LockTableData {
    return this.data;
  }

  hasStage(stage: string): boolean {
    return stage in this.data.stages;
  }

  /**
   * Every execution the table holds a place for: the lock holders and those waiting (a kept place only once
   * its execution had time to start, so that the watcher never takes one about to start for one that failed to).
   */
  watched(now?: string): string[] {
    const ids = new Set<string>();
    const settled = this.settled(now);
    for (const s of Object.values(this.data.stages)) {
      for (const h of s.holders) ids.add(h.executionId);
      for (const w of s.inbound) if (settled(w)) ids.add(w.executionId);
    }
    return [...ids];
  }

  /**
   * Whether {@link watched} would name anyone, without listing them: the coordinator's watch loop waits on it,
   * and the SDK evaluates a waiting condition after every activation, so it stops at the first one found.
   */
  watchesAny(now?: string): boolean {
    const settled = this.settled(now);
    for (const s of Object.values(this.data.stages)) {
      if (s.holders.length > 0 || s.inbound.some(settled)) return true;
    }
    return false;
  }

  /** Whether the watcher may check a place yet: a kept place only {@link RESERVATION_GRACE_MS} after it was kept. */
  private settled(now: string | undefined): (w: Inbound) => boolean {
    if (now === undefined) return () => true;
    const at = Date.parse(now);
    return (w) => !w.reserved || at - Date.parse(w.since) > RESERVATION_GRACE_MS;
  }

  /**
   * QUEUED: keeps a place at the first stage for an execution as its number is given, so that executions
   * enter in the order Paso accepted them, whichever asks first. Other modes keep nothing.
   */
  reserve(executionId: string, n: number, stage: string, at: string): void {
    if (!this.current || this.data.mode !== 'QUEUED') return;
    this.stage(stage).inbound.push({ executionId, n, since: at, reserved: true });
  }

  /**
   * An execution asks to enter `stage` (`retry`: again, after it failed or stopped there). Asking again
   * (e.g. after a workflow reset) is harmless.
   */
  request(executionId: string, n: number, stage: string, at: string, retry = false): Effect[] {
    const s = this.stage(stage);
    if (isHolder(s, executionId)) return [{ type: 'grant', executionId, stage }];
    const place = s.inbound.find((w) => w.executionId === executionId);
    if (place?.reserved) {
      // It arrives at the place kept for it: it enters if nobody is before it.
      delete place.reserved;
      const effects = this.admit(stage);
      return s.inbound.includes(place) ? [...effects, this.waitEffect(stage, executionId)] : effects;
    }
    if (place) return [this.waitEffect(stage, executionId)];
    const newer = this.newerThan(s, n, retry);
    if (newer) return [{ type: 'supersede', executionId, stage, by: newer }];
    if (this.canEnterNow(s)) return this.enter(stage, executionId, n);

    const effects: Effect[] = [];
    if (this.data.mode === 'SUPERSEDED' && s.inbound.length > 0) {
      // One waiting slot: the newer of the two keeps it.
      const waiting = s.inbound[0]!;
      const [keep, drop] =
        waiting.n > n ? [waiting, { executionId, n, since: at }] : [{ executionId, n, since: at }, waiting];
      s.inbound = [keep];
      effects.push({ type: 'supersede', executionId: drop.executionId, stage, by: keep.executionId });
      if (keep.executionId === executionId) effects.push(this.waitEffect(stage, executionId));
      return effects;
    }
    s.inbound.push({ executionId, n, since: at, ...(retry ? { retry } : {}) });
    return [this.waitEffect(stage, executionId)];
  }

  /** The holder leaves `stage`: its slot is free at once and the next one enters. */
  leave(executionId: string, stage: string, outcome: LeaveOutcome): Effect[] {
    const s = this.stage(stage);
    if (s.latest?.executionId === executionId) s.latest.status = outcome;
    const holder = s.holders.find((h) => h.executionId === executionId);
    if (!holder) return [];
    s.holders = s.holders.filter((h) => h !== holder);
    const effects: Effect[] = [];
    if (slotsOf(s) > 1 && outcome !== 'Succeeded' && s.latest && s.latest.executionId !== executionId) {
      // Another execution entered while this one was in the stage: a newer one has overtaken it already.
      if (s.latest.n > holder.n) effects.push({ type: 'overtake', executionId, stage, by: s.latest.executionId });
      else (s.unfinished ??= []).push(holder);
    }
    return [...effects, ...this.admit(stage)];
  }

  /** The execution is gone (ended, stopped while inbound, terminated): it loses every lock and place. */
  withdraw(executionId: string): Effect[] {
    const effects: Effect[] = [];
    for (const [name, s] of Object.entries(this.data.stages)) {
      // Lists are copied only where the execution is: the watcher's verdicts mostly name one that left already.
      const waited = s.inbound.some((w) => w.executionId === executionId);
      if (waited) s.inbound = s.inbound.filter((w) => w.executionId !== executionId);
      if (s.unfinished?.some((u) => u.executionId === executionId)) {
        s.unfinished = s.unfinished.filter((u) => u.executionId !== executionId);
      }
      if (isHolder(s, executionId)) {
        s.holders = s.holders.filter((h) => h.executionId !== executionId);
        if (s.latest?.executionId === executionId && s.latest.status === 'InProgress') s.latest.status = 'Cancelled';
        effects.push(...this.admit(name));
      } else if (waited) {
        // A place kept for an execution that never started may have held up those behind it.
        effects.push(...this.admit(name));
      }
    }
    return effects;
  }

  /**
   * A coordinator started afresh learns who still runs: those in a stage hold its lock again (the first ones
   * named, should more claim it than it has slots), those in front of one wait again in number order
   * (SUPERSEDED: the newest only). Free stages then admit their waiters.
   */
  restore(running: { executionId: string; n: number; holds: string | null; waitsFor: string | null }[]): Effect[] {
    const effects: Effect[] = [];
    for (const { executionId, n, holds } of running) {
      if (!holds || this.data.mode === 'PARALLEL') continue;
      const s = this.stage(holds);
      if (s.holders.length >= slotsOf(s) || isHolder(s, executionId)) continue;
      s.holders.push({ executionId, n });
      if (slotsOf(s) === 1 || !s.latest || s.latest.n < n) s.latest = { executionId, n, status: 'InProgress' };
    }
    const waiting = running.filter((r) => r.waitsFor !== null && r.holds === null).sort((a, b) => a.n - b.n);
    for (const { executionId, n, waitsFor } of waiting) {
      effects.push(...this.request(executionId, n, waitsFor!, ''));
    }
    return effects.filter((e) => e.type !== 'wait');
  }

  /**
   * The stage's calendar shuts it (`shut`) or opens it (null): shut, it holds arrivals as a disabled
   * transition does; open again, those waiting enter as on enabling.
   */
  setShut(stage: string, shut: Shut | null): Effect[] {
    const s = this.stage(stage);
    if (shut) {
      s.shut = shut;
      return s.inbound.map((w) => this.waitEffect(stage, w.executionId));
    }
    if (!s.shut) return [];
    delete s.shut;
    return this.admit(stage);
  }

  /**
   * Why `executionId` cannot be let through the shut window of `stage` now, or null: it must wait in front of
   * it for the window alone (a disabled transition or a full stage still holds it).
   */
  refusePass(executionId: string, stage: string): string | null {
    const s = this.stage(stage);
    if (!s.inbound.some((w) => w.executionId === executionId)) return `it does not wait in front of "${stage}"`;
    if (!s.transition.enabled) return `the transition into "${stage}" is disabled`;
    if (!s.shut) return `"${stage}" is not shut by its calendar`;
    if (this.data.mode !== 'PARALLEL' && s.holders.length >= slotsOf(s)) {
      return `"${stage}" is locked by ${s.holders.map((h) => h.executionId).join(', ')}; try once it is free`;
    }
    return null;
  }

  /** An admin lets `executionId` through the shut window of `stage` (see {@link refusePass}). */
  pass(executionId: string, stage: string, pass: WindowPass): Effect[] {
    if (this.refusePass(executionId, stage)) return [];
    const s = this.stage(stage);
    const place = s.inbound.find((w) => w.executionId === executionId)!;
    s.inbound = s.inbound.filter((w) => w !== place);
    return this.enter(stage, executionId, place.n).map((e) => (e.type === 'grant' ? { ...e, pass } : e));
  }

  setTransition(stage: string, transition: Transition): Effect[] {
    const s = this.stage(stage);
    s.transition = transition;
    if (transition.enabled) return this.admit(stage);
    return s.inbound.map((w) => this.waitEffect(stage, w.executionId));
  }

  /**
   * A new definition: stages appear and disappear (their locks and lists go with them), and a new mode
   * applies to those waiting now. QUEUED→SUPERSEDED keeps only the newest waiter per stage; →PARALLEL admits
   * everyone waiting for a lock (a disabled transition still holds them). A stage given more slots admits
   * waiters into them; one given fewer lets its holders finish and admits nobody until one is free.
   */
  redefine(mode: ExecutionMode, stages: readonly string[], slots: Slots = {}): Effect[] {
    // Stages that left the definition go once nobody holds or waits for them (older executions still may).
    for (const [name, s] of Object.entries(this.data.stages)) {
      if (!stages.includes(name) && s.holders.length === 0 && s.inbound.length === 0) delete this.data.stages[name];
    }
    this.syncStages(stages);
    this.setSlots(stages, slots);
    this.data.mode = mode;
    const effects: Effect[] = [];
    for (const [name, s] of Object.entries(this.data.stages)) {
      if (mode === 'SUPERSEDED' && s.inbound.length > 1) {
        const newest = s.inbound.reduce((a, b) => (b.n > a.n ? b : a));
        for (const w of s.inbound) {
          if (w !== newest)
            effects.push({ type: 'supersede', executionId: w.executionId, stage: name, by: newest.executionId });
        }
        s.inbound = [newest];
      }
      effects.push(...this.admit(name));
    }
    return effects;
  }

  view(stage: string): Omit<StageState, 'name'> {
    const s = this.stage(stage);
    return {
      transition: { ...s.transition },
      concurrency: slotsOf(s),
      lockedBy: s.holders[0]?.executionId ?? null,
      holders: s.holders.map((h) => h.executionId),
      window: s.shut ? { ...s.shut } : null,
      inbound: s.inbound.map((w) => ({
        executionId: w.executionId,
        status: 'InProgress' as const,
        waitingFor: this.reason(s),
      })),
      latestExecution: s.latest ? { executionId: s.latest.executionId, status: s.latest.status } : null,
    };
  }

  private admit(stage: string): Effect[] {
    const s = this.stage(stage);
    const effects: Effect[] = [];
    while (s.inbound.length > 0 && !s.inbound[0]!.reserved && this.canEnterNow(s, true)) {
      const next = s.inbound.shift()!;
      // A newer execution may have entered while this one waited (QUEUED: a retry queued behind it).
      const newer = this.newerThan(s, next.n, next.retry === true);
      if (newer) effects.push({ type: 'supersede', executionId: next.executionId, stage, by: newer });
      else effects.push(...this.enter(stage, next.executionId, next.n));
    }
    return effects;
  }

  /**
   * The newer execution that has entered the stage, when execution `n` may therefore not: it is a retry, or
   * the mode is SUPERSEDED (where the newer would have superseded it anyway).
   */
  private newerThan(s: StageData, n: number, retry: boolean): string | null {
    if (!this.current || this.data.mode === 'PARALLEL' || !s.latest || s.latest.n <= n) return null;
    return retry || this.data.mode === 'SUPERSEDED' ? s.latest.executionId : null;
  }

  private canEnterNow(s: StageData, fromQueue = false): boolean {
    if (!s.transition.enabled || s.shut) return false;
    if (this.data.mode === 'PARALLEL') return true;
    return s.holders.length < slotsOf(s) && (fromQueue || s.inbound.length === 0);
  }

  /**
   * `executionId` enters `stage`. An older execution that failed or stopped in this stage is overtaken: it
   * can no longer be retried.
   */
  private enter(stage: string, executionId: string, n: number): Effect[] {
    const s = this.stage(stage);
    const effects: Effect[] = [];
    const previous = s.latest;
    const overtakes = this.data.mode === 'SUPERSEDED' || (this.current && this.data.mode === 'QUEUED');
    if (overtakes && previous && previous.n < n && (previous.status === 'Failed' || previous.status === 'Stopped')) {
      effects.push({ type: 'overtake', executionId: previous.executionId, stage, by: executionId });
    }
    if (s.unfinished) {
      // More than one slot: those that failed or stopped while others held the stage.
      for (const u of s.unfinished) {
        if (overtakes && u.n < n)
          effects.push({ type: 'overtake', executionId: u.executionId, stage, by: executionId });
      }
      s.unfinished = s.unfinished.filter((u) => !(overtakes && u.n < n) && u.executionId !== executionId);
      if (s.unfinished.length === 0) delete s.unfinished;
    }
    if (this.data.mode !== 'PARALLEL') s.holders.push({ executionId, n });
    s.latest = { executionId, n, status: 'InProgress' };
    effects.push({ type: 'grant', executionId, stage });
    return effects;
  }

  private reason(s: StageData): WaitReason {
    if (!s.transition.enabled) return 'TRANSITION';
    return s.shut ? 'WINDOW' : 'STAGE_LOCK';
  }

  private waitEffect(stage: string, executionId: string): Effect {
    const s = this.stage(stage);
    const reason = this.reason(s);
    return {
      type: 'wait',
      executionId,
      stage,
      for: reason,
      ...(reason === 'WINDOW' ? { opensAt: s.shut!.opensAt } : {}),
    };
  }

  private syncStages(stages: readonly string[]): void {
    for (const name of stages) {
      this.data.stages[name] ??= { holders: [], inbound: [], transition: { ...OPEN }, latest: null };
    }
  }

  /** The definition's stages take its slots (one where it names none; only more than one is stored). */
  private setSlots(stages: readonly string[], slots: Slots): void {
    for (const name of stages) {
      const s = this.stage(name);
      const n = slots[name] ?? 1;
      if (n > 1) s.slots = n;
      else delete s.slots;
    }
  }

  /** A stage's data, made on first use: an execution on an older definition may name a stage the current one lacks. */
  private stage(name: string): StageData {
    this.syncStages([name]);
    return this.data.stages[name]!;
  }
}

function slotsOf(s: StageData): number {
  return s.slots ?? 1;
}

function isHolder(s: StageData, executionId: string): boolean {
  return s.holders.some((h) => h.executionId === executionId);
}
