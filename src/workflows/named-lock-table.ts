/**
 * The named locks (resource groups) shared by every pipeline, as a pure state machine: the
 * `paso-named-locks` workflow feeds it requests and releases and sends the signals it returns, deciding
 * nothing itself. Unit-tested rule by rule (test/unit/named-lock-table.test.ts).
 *
 * - A request names every lock a stage needs, each `exclusive` or `shared`. It is granted all of them at once,
 *   or waits holding none of them: nobody holds one lock while waiting for another, so two stages that name the
 *   same locks in different orders never deadlock. (An execution asks only once it holds its stage's own lock,
 *   and gives its named locks back when it leaves the stage: the stage lock is always taken first.)
 * - `shared` holders coexist; `exclusive` excludes everyone. A waiter enters only when no waiter before it, by
 *   the lock's order, conflicts with it (a shared request does not pass an exclusive one waiting before it, so
 *   a deployment is not starved by a stream of smoke tests).
 * - Orders: `fifo` (arrival at the lock), `oldest-first` (the execution's trigger time), `newest-first` (the
 *   newest waiter; a newer request supersedes every older waiter of the lock, and an older one arriving after a
 *   newer is superseded at once, as SUPERSEDED pipelines do).
 * - Locks of different orders can rank two waiters oppositely (A before B on a fifo lock, B before A on an
 *   oldest-first one). Such a cycle would wait forever; it is broken by granting, of its waiters that the
 *   holders do not block, the one that arrived first.
 * - Every grant of a lock takes the next fencing token of that lock (never reused, only growing).
 */
import type { LockHolderView, LockMode, LockNeed, LockOrder, LockView } from '../shared/named-locks.js';

export interface LockRequest {
  executionId: string;
  stage: string;
  /** When the execution was triggered (`oldest-first` and `newest-first` rank by it). */
  createdAt: string;
  locks: (LockNeed & { order: LockOrder })[];
}

interface Waiter {
  executionId: string;
  stage: string;
  createdAt: string;
  /** Arrival order, across all locks. */
  seq: number;
  since: string;
  locks: LockNeed[];
  /** What it was last told it waits for (`lock` + holders), so it is told again only when that changes. */
  told?: string;
}

type Holding = LockHolderView;

interface LockState {
  order: LockOrder;
  token: number;
  holders: Holding[];
}

export interface NamedLockData {
  /** Where a lock's fencing tokens start: the time the table was made, in ms (see {@link NamedLockTable.create}). */
  origin?: number;
  seq: number;
  locks: Record<string, LockState>;
  waiting: Waiter[];
}

export type NamedLockEffect =
  | { type: 'grant'; executionId: string; stage: string; tokens: Record<string, number> }
  | { type: 'wait'; executionId: string; stage: string; lock: string; heldBy: string[] }
  | { type: 'supersede'; executionId: string; stage: string; lock: string; by: string };

const conflicts = (a: LockMode, b: LockMode) => a === 'exclusive' || b === 'exclusive';

export class NamedLockTable {
  constructor(private readonly data: NamedLockData) {}

  /**
   * A new table. Its locks' tokens start at `origin`: the workflow passes the time it starts afresh, in ms, so
   * that tokens keep growing even if the workflow is ever started again from nothing (terminated from
   * Temporal); continue-as-new carries the counters on.
   */
  static create(origin = 0): NamedLockTable {
    return new NamedLockTable({ origin, seq: 0, locks: {}, waiting: [] });
  }

  toJSON(): NamedLockData {
    return this.data;
  }

  /** A stage's request for its locks. Asking again (a retried signal) repeats the answer it had. */
  acquire(request: LockRequest, now: string): NamedLockEffect[] {
    const { executionId, stage } = request;
    for (const need of request.locks) {
      const lock = (this.data.locks[need.name] ??= { order: need.order, token: this.data.origin ?? 0, holders: [] });
      // The config's order as of this request's trigger, taken only while the lock is idle, so that an older
      // execution's request never reorders those waiting.
      const idle = lock.holders.length === 0 && !this.data.waiting.some((w) => this.needs(w, need.name));
      if (idle) lock.order = need.order;
    }
    const held = this.tokensOf(executionId, stage);
    if (held) return [{ type: 'grant', executionId, stage, tokens: held }];
    const waiting = this.data.waiting.find((w) => w.executionId === executionId && w.stage === stage);
    if (waiting) {
      delete waiting.told;
      return this.tellWaiters();
    }
    // An execution is in one stage at a time: whatever it still has elsewhere is stale.
    const effects = this.release(executionId, null, now);

    const arriving: Waiter = {
      executionId,
      stage,
      createdAt: request.createdAt,
      seq: ++this.data.seq,
      since: now,
      locks: request.locks.map(({ name, mode }) => ({ name, mode })),
    };
    // newest-first: one waiter per lock, the newest; the others are superseded.
    for (const need of request.locks) {
      if (need.order !== 'newest-first') continue;
      const newer = this.data.waiting.find((w) => this.needs(w, need.name) && this.ranksBefore(need.name, w, arriving));
      if (newer) {
        return [
          ...effects,
          { type: 'supersede', executionId, stage, lock: need.name, by: newer.executionId },
          ...this.schedule(now),
        ];
      }
    }
    for (const need of request.locks) {
      if (need.order !== 'newest-first') continue;
      for (const older of this.data.waiting.filter((w) => this.needs(w, need.name))) {
        this.data.waiting = this.data.waiting.filter((w) => w !== older);
        effects.push({
          type: 'supersede',
          executionId: older.executionId,
          stage: older.stage,
          lock: need.name,
          by: executionId,
        });
      }
    }
    this.data.waiting.push(arriving);
    return [...effects, ...this.schedule(now)];
  }

  /** The execution leaves `stage` (or every stage): its locks go to the next waiters; its requests are dropped. */
  release(executionId: string, stage: string | null, now: string): NamedLockEffect[] {
    const before = this.holdingsCount() + this.data.waiting.length;
    for (const lock of Object.values(this.data.locks)) {
      lock.holders = lock.holders.filter((h) => h.executionId !== executionId || (stage !== null && h.stage !== stage));
    }
    this.data.waiting = this.data.waiting.filter(
      (w) => w.executionId !== executionId || (stage !== null && w.stage !== stage),
    );
    if (this.holdingsCount() + this.data.waiting.length === before) return [];
    return this.schedule(now);
  }

  /**
   * No token from now on is below `floor`: a run started afresh recovers a state that may be older than the
   * last one (visibility lags), so it counts on from its own start time (ms), above any token given before.
   */
  raiseTokens(floor: number): void {
    this.data.origin = Math.max(this.data.origin ?? 0, floor);
    for (const lock of Object.values(this.data.locks)) lock.token = Math.max(lock.token, floor);
  }

  /** Every execution holding or waiting for a lock, for the watcher. */
  watched(): string[] {
    const ids = new Set<string>();
    for (const lock of Object.values(this.data.locks)) for (const h of lock.holders) ids.add(h.executionId);
    for (const w of this.data.waiting) ids.add(w.executionId);
    return [...ids];
  }

  /** Every lock that was ever asked for, by name. */
  view(): LockView[] {
    return Object.keys(this.data.locks)
      .sort()
      .map((name) => this.lockView(name)!);
  }

  lockView(name: string): LockView | null {
    const lock = this.data.locks[name];
    if (!lock) return null;
    const waiters = this.data.waiting
      .filter((w) => this.needs(w, name))
      .sort((a, b) => (this.ranksBefore(name, a, b) ? -1 : 1));
    return {
      name,
      order: lock.order,
      token: lock.token,
      holders: lock.holders.map((h) => ({ ...h })),
      waiters: waiters.map((w, i) => ({
        executionId: w.executionId,
        stage: w.stage,
        mode: w.locks.find((l) => l.name === name)!.mode,
        since: w.since,
        position: i + 1,
        with: w.locks.filter((l) => l.name !== name).map((l) => l.name),
      })),
    };
  }

  /** Grants every waiter that may enter now, in arrival order, then tells the others what they wait for. */
  private schedule(now: string): NamedLockEffect[] {
    const effects: NamedLockEffect[] = [];
    for (;;) {
      const next = this.byArrival().find((w) => this.blocker(w) === null) ?? this.cycleBreaker();
      if (!next) break;
      effects.push(this.grant(next, now));
    }
    return [...effects, ...this.tellWaiters()];
  }

  private grant(waiter: Waiter, now: string): NamedLockEffect {
    this.data.waiting = this.data.waiting.filter((w) => w !== waiter);
    const tokens: Record<string, number> = {};
    for (const need of waiter.locks) {
      const lock = this.data.locks[need.name]!;
      lock.token += 1;
      lock.holders.push({
        executionId: waiter.executionId,
        stage: waiter.stage,
        mode: need.mode,
        token: lock.token,
        since: now,
      });
      tokens[need.name] = lock.token;
    }
    return { type: 'grant', executionId: waiter.executionId, stage: waiter.stage, tokens };
  }

  /**
   * What keeps a waiter out: a lock whose holders conflict with it, or a waiter before it (by that lock's order)
   * that conflicts with it; null when it may enter.
   */
  private blocker(w: Waiter): { lock: string; holders: boolean; waiter?: Waiter } | null {
    for (const need of w.locks) {
      if (!this.fits(need)) return { lock: need.name, holders: true };
    }
    for (const need of w.locks) {
      const ahead = this.data.waiting.find(
        (other) =>
          other !== w &&
          this.ranksBefore(need.name, other, w) &&
          other.locks.some((l) => l.name === need.name && conflicts(l.mode, need.mode)),
      );
      if (ahead) return { lock: need.name, holders: false, waiter: ahead };
    }
    return null;
  }

  /**
   * A waiter the holders do not block but that only waits behind a cycle of waiters, each before the next on
   * some lock (possible only between locks of different orders); the first to arrive of such a cycle.
   */
  private cycleBreaker(): Waiter | undefined {
    for (const start of this.byArrival()) {
      const path: Waiter[] = [];
      let at: Waiter | undefined = start;
      while (at && !path.includes(at)) {
        path.push(at);
        const b = this.blocker(at);
        at = b && !b.holders ? b.waiter : undefined;
      }
      if (!at) continue;
      const cycle = path.slice(path.indexOf(at));
      const free = cycle.filter((w) => w.locks.every((need) => this.fits(need)));
      if (free.length > 0) return free.sort((a, b) => a.seq - b.seq)[0];
    }
    return undefined;
  }

  /** Tells each waiter what it waits for, when that changed since it was last told. */
  private tellWaiters(): NamedLockEffect[] {
    const effects: NamedLockEffect[] = [];
    for (const w of this.byArrival()) {
      const b = this.blocker(w);
      if (!b) continue;
      const heldBy = this.data.locks[b.lock]!.holders.map((h) => h.executionId);
      const told = `${b.lock} ${heldBy.join(' ')}`;
      if (w.told === told) continue;
      w.told = told;
      effects.push({ type: 'wait', executionId: w.executionId, stage: w.stage, lock: b.lock, heldBy });
    }
    return effects;
  }

  /** Whether a need fits beside the lock's holders. */
  private fits(need: LockNeed): boolean {
    const holders = this.data.locks[need.name]!.holders;
    return holders.every((h) => !conflicts(h.mode, need.mode));
  }

  /** Whether `a` comes before `b` in the order of lock `name`. */
  private ranksBefore(name: string, a: Waiter, b: Waiter): boolean {
    const order = this.data.locks[name]!.order;
    if (order === 'fifo' || a.createdAt === b.createdAt) return a.seq < b.seq;
    const older = Date.parse(a.createdAt) < Date.parse(b.createdAt);
    return order === 'oldest-first' ? older : !older;
  }

  private needs(w: Waiter, name: string): boolean {
    return w.locks.some((l) => l.name === name);
  }

  private byArrival(): Waiter[] {
    return [...this.data.waiting].sort((a, b) => a.seq - b.seq);
  }

  private tokensOf(executionId: string, stage: string): Record<string, number> | null {
    let tokens: Record<string, number> | null = null;
    for (const [name, lock] of Object.entries(this.data.locks)) {
      const h = lock.holders.find((x) => x.executionId === executionId && x.stage === stage);
      if (h) (tokens ??= {})[name] = h.token;
    }
    return tokens;
  }

  private holdingsCount(): number {
    return Object.values(this.data.locks).reduce((n, l) => n + l.holders.length, 0);
  }
}
