/**
 * The coordinator's state and its rules, as a plain class with no Temporal in it: the workflow feeds it
 * events and persists `toJSON()` across continue-as-new. Unit-tested on its own.
 */
import type { FreezeDefinition, PipelineDefinition } from '../shared/definition.js';
import { executionIdOf } from '../shared/execution.js';
import type {
  AllocateExecutionInput,
  AllocateExecutionResult,
  AllocateExecutionsResult,
  Allocation,
  PipelineSnapshot,
  PutDefinitionResult,
} from '../shared/messages.js';
import type { PipelineState } from '../shared/pipeline-state.js';
import type { Calendar } from './calendar.js';
import { freezeAt, isOpen, nextChange, opensAt } from './calendar.js';
import { cloneJson, stableJson } from './json.js';
import type { Effect, LockTableData, Slots } from './lock-table.js';
import { LockTable } from './lock-table.js';

/** How many idempotency keys are remembered; older ones are forgotten first. */
export const IDEMPOTENCY_KEYS_KEPT = 1000;

/**
 * PARALLEL: how long an execution given its id is remembered, so that a transition disabled meanwhile is
 * told to it even before Temporal's visibility lists it (the gateway starts it within milliseconds).
 */
export const RECENT_ALLOCATION_MS = 10_000;

/** A PARALLEL execution given its id lately. */
export interface RecentAllocation {
  executionId: string;
  at: string;
}

interface IdempotencyEntry {
  key: string;
  executionId: string;
  requestDigest: string;
  /** When the key was first used (absent for keys remembered by Paso 0.1). */
  at?: string;
}

/** What a coordinator started afresh (its first run, or after it was terminated) learns from Temporal. */
export interface Recovered {
  /** The last state of the coordinator's previous run, if it had one that can still be read. */
  previous: PipelineSnapshot | null;
  /** The highest execution number Temporal knows for the pipeline. */
  highestExecution: number;
  /** Its running executions: the stage each is in (holding its lock), or waits in front of. */
  running: { executionId: string; n: number; holds: string | null; waitsFor: string | null }[];
}

/** Everything the coordinator carries across continue-as-new: plain JSON, no Maps. */
export interface CoordinatorData extends PipelineSnapshot {
  idempotency: IdempotencyEntry[];
  locks: LockTableData;
  /** The coordinator is started with its first definition; the first put then reports the creation. */
  creationReported: boolean;
  /** PARALLEL: executions given their ids in the last {@link RECENT_ALLOCATION_MS}. */
  recent?: RecentAllocation[];
  /** How many times the config-wide freezes changed: the calendars are read again when it does. */
  configRevision?: number;
}

export class IdempotencyConflict extends Error {
  constructor(key: string) {
    super(`idempotencyKey "${key}" was already used for a different request`);
  }
}

export class CoordinatorState {
  /** The stage locks, inbound lists and transitions; its data lives inside `data`, so it is carried along. */
  readonly locks: LockTable;

  private constructor(private readonly data: CoordinatorData) {
    this.locks = new LockTable(data.locks);
  }

  static create(definition: PipelineDefinition, by: string, at: string): CoordinatorState {
    return new CoordinatorState({
      name: definition.name,
      definition,
      version: 1,
      updatedAt: at,
      updatedBy: by,
      executionsStarted: 0,
      idempotency: [],
      deleted: false,
      creationReported: false,
      locks: LockTable.create(
        definition.executionMode,
        definition.stages.map((st) => st.name),
        slotsOf(definition),
      ).toJSON(),
    });
  }

  static restore(data: CoordinatorData): CoordinatorState {
    return new CoordinatorState(cloneJson(data));
  }

  get deleted(): boolean {
    return this.data.deleted;
  }

  /**
   * Stores a new version, unless nothing changed. Putting a deleted pipeline brings it back. A new mode or
   * new stages apply to the locks at once; the effects say whom to tell.
   */
  putDefinition(
    definition: PipelineDefinition,
    by: string,
    at: string,
  ): { result: PutDefinitionResult; effects: Effect[] } {
    const { created, changed } = this.previewPut(definition);
    this.data.creationReported = true;
    if (!changed) return { result: { version: this.data.version, changed: false, created }, effects: [] };
    this.data.definition = definition;
    this.data.version += 1;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
    this.data.deleted = false;
    const effects = this.locks.redefine(
      definition.executionMode,
      definition.stages.map((st) => st.name),
      slotsOf(definition),
    );
    return { result: { version: this.data.version, changed: true, created }, effects };
  }

  /** What {@link putDefinition} would report, without changing anything. */
  previewPut(definition: PipelineDefinition): { created: boolean; changed: boolean } {
    const created = !this.data.creationReported || this.data.deleted;
    const changed = this.data.deleted || stableJson(definition) !== stableJson(this.data.definition);
    return { created, changed };
  }

  /** Throws {@link IdempotencyConflict} when `allocate` would refuse this request. Changes nothing. */
  checkAllocation({ idempotencyKey, requestDigest }: AllocateExecutionInput): void {
    const seen = this.findKey(idempotencyKey);
    if (seen && seen.requestDigest !== requestDigest) throw new IdempotencyConflict(seen.key);
  }

  /**
   * Refuses a batch of requests (`allocateExecutions`) that {@link allocateAll} could not answer whole: one
   * reusing a key with another request, here or before.
   */
  checkAllocations(requests: AllocateExecutionInput[]): void {
    const digests = new Map<string, string>();
    for (const request of requests) {
      this.checkAllocation(request);
      const { idempotencyKey, requestDigest } = request;
      if (idempotencyKey === undefined) continue;
      const earlier = digests.get(idempotencyKey);
      if (earlier !== undefined && earlier !== requestDigest) throw new IdempotencyConflict(idempotencyKey);
      digests.set(idempotencyKey, requestDigest);
    }
  }

  /** Each request's execution id, in order (a key repeated within the batch finds the execution it made). */
  allocateAll(requests: AllocateExecutionInput[], at: string): Omit<AllocateExecutionsResult, 'leavingInRequest'> {
    const allocations = requests.map((request) => this.give(request, at));
    return { ...this.current(), allocations };
  }

  /** Gives the next execution id, or the one already given for this idempotency key. */
  allocate(input: AllocateExecutionInput, at: string): AllocateExecutionResult {
    return { ...this.current(), ...this.give(input, at) };
  }

  /** One request's execution id (see {@link allocate}), without the definition it runs. */
  private give(input: AllocateExecutionInput, at: string): Allocation {
    this.checkAllocation(input);
    const { idempotencyKey, requestDigest } = input;
    const seen = this.findKey(idempotencyKey);
    if (seen) return { executionId: seen.executionId, created: false, ...(seen.at ? { at: seen.at } : {}) };
    this.data.executionsStarted += 1;
    const executionId = executionIdOf(this.data.name, this.data.executionsStarted);
    this.locks.reserve(executionId, this.data.executionsStarted, this.data.definition.stages[0]!.name, at);
    if (this.locks.mode === 'PARALLEL') {
      this.data.recent = [...this.recentAllocations(at), { executionId, at }];
    }
    if (idempotencyKey !== undefined) {
      this.data.idempotency.push({ key: idempotencyKey, executionId, requestDigest, at });
      if (this.data.idempotency.length > IDEMPOTENCY_KEYS_KEPT) this.data.idempotency.shift();
    }
    return { executionId, created: true, ...this.closedStages() };
  }

  /** PARALLEL executions given their ids lately (within {@link RECENT_ALLOCATION_MS} of `now`). */
  recentAllocations(now: string): RecentAllocation[] {
    return (this.data.recent ?? []).filter((r) => Date.parse(now) - Date.parse(r.at) <= RECENT_ALLOCATION_MS);
  }

  /** An execution that will not start (its trigger was refused) or has ended: no need to tell it anything. */
  forget(executionId: string): void {
    if (this.data.recent) this.data.recent = this.data.recent.filter((r) => r.executionId !== executionId);
  }

  /** PARALLEL: the stages whose transition is disabled, for a new execution to ask before (none: nothing). */
  private closedStages(): { closedStages?: string[] } {
    if (this.locks.mode !== 'PARALLEL') return {};
    const closed = this.state()
      .stages.filter((s) => !s.transition.enabled)
      .map((s) => s.name);
    return closed.length > 0 ? { closedStages: closed } : {};
  }

  /**
   * A deleted pipeline keeps its coordinator (and so its execution counter): putting it again continues the
   * numbering, so a new execution can never take the id of an old one.
   */
  executionForKey(key: string): string | null {
    return this.findKey(key)?.executionId ?? null;
  }

  /**
   * The counter is behind the executions Temporal has (the coordinator was reset to an earlier point): the
   * next id given is above `n`, so a new execution never takes an old one's id.
   */
  advanceExecutions(n: number): void {
    this.data.executionsStarted = Math.max(this.data.executionsStarted, n);
  }

  /**
   * Takes over from a previous run that ended without continuing-as-new (terminated): its version, counter,
   * deletion and definition (a put of the same definition then makes no new version), and the locks and
   * places of the executions that still run. Returns whom to tell.
   */
  recover(recovered: Recovered): Effect[] {
    const { previous } = recovered;
    if (previous) {
      Object.assign(this.data, {
        definition: previous.definition,
        version: previous.version,
        updatedAt: previous.updatedAt,
        updatedBy: previous.updatedBy,
        deleted: previous.deleted,
        creationReported: true,
      });
      if (previous.configFreezes) this.setConfigFreezes(previous.configFreezes);
      this.locks.redefine(
        previous.definition.executionMode,
        previous.definition.stages.map((st) => st.name),
        slotsOf(previous.definition),
      );
    }
    this.advanceExecutions(Math.max(previous?.executionsStarted ?? 0, recovered.highestExecution));
    return this.locks.restore(recovered.running);
  }

  /**
   * The config-wide freezes (the gateway gives them): kept beside the pipeline's own. Returns whether they
   * changed.
   */
  setConfigFreezes(freezes: FreezeDefinition[]): boolean {
    if (stableJson(freezes) === stableJson(this.data.configFreezes ?? [])) return false;
    if (freezes.length > 0) this.data.configFreezes = cloneJson(freezes);
    else delete this.data.configFreezes;
    this.data.configRevision = (this.data.configRevision ?? 0) + 1;
    return true;
  }

  /** Changes whenever what the calendars are made of changes (a new version, new config-wide freezes). */
  calendarRevision(): string {
    return `${this.data.version}/${this.data.configRevision ?? 0}`;
  }

  /** The stages whose windows or the pipeline's (or the config's) freezes decide when they may be entered. */
  calendars(): Record<string, Calendar> {
    const { definition } = this.data;
    const freezes = [...(definition.freezes ?? []), ...(this.data.configFreezes ?? [])];
    const calendars: Record<string, Calendar> = {};
    for (const st of definition.stages) {
      if (st.windows || freezes.length > 0) calendars[st.name] = { windows: st.windows ?? [], freezes };
    }
    return calendars;
  }

  /**
   * The calendars at instant `now`: stages outside their windows or frozen are shut, the others open (those
   * waiting enter). Returns whom to tell, and when a calendar next changes (null: never).
   */
  applyCalendars(now: number): { effects: Effect[]; next: number | null } {
    const calendars = this.calendars();
    const effects: Effect[] = [];
    let next: number | null = null;
    for (const stage of Object.keys(this.data.locks.stages)) {
      const cal = calendars[stage];
      if (!cal || isOpen(cal, now)) {
        effects.push(...this.locks.setShut(stage, null));
      } else {
        const opens = opensAt(cal, now);
        const reason = freezeAt(cal, now)?.reason ?? 'outside its deployment windows';
        const shut = { reason, opensAt: opens === null ? null : new Date(opens).toISOString() };
        const before = this.data.locks.stages[stage]?.shut;
        if (before?.reason !== shut.reason || before.opensAt !== shut.opensAt)
          effects.push(...this.locks.setShut(stage, shut));
      }
      const change = cal ? nextChange(cal, now) : null;
      if (change !== null && (next === null || change < next)) next = change;
    }
    return { effects, next };
  }

  markDeleted(by: string, at: string): void {
    this.data.deleted = true;
    this.data.updatedAt = at;
    this.data.updatedBy = by;
  }

  state(): PipelineState {
    return {
      name: this.data.name,
      executionMode: this.data.definition.executionMode,
      version: this.data.version,
      stages: this.data.definition.stages.map((st) => ({ name: st.name, ...this.locks.view(st.name) })),
    };
  }

  snapshot(): PipelineSnapshot {
    const { name, definition, version, updatedAt, updatedBy, executionsStarted, deleted, configFreezes } = this.data;
    return {
      name,
      definition,
      version,
      updatedAt,
      updatedBy,
      executionsStarted,
      deleted,
      ...(configFreezes ? { configFreezes } : {}),
    };
  }

  toJSON(): CoordinatorData {
    return cloneJson(this.data);
  }

  private findKey(key: string | undefined): IdempotencyEntry | undefined {
    return key === undefined ? undefined : this.data.idempotency.find((e) => e.key === key);
  }

  private current() {
    return { pipelineVersion: this.data.version, definition: this.data.definition };
  }
}

/** The stages with more than one slot (`concurrency`). */
function slotsOf(definition: PipelineDefinition): Slots {
  const slots: Slots = {};
  for (const st of definition.stages)
    if (st.concurrency !== undefined && st.concurrency > 1) slots[st.name] = st.concurrency;
  return slots;
}
