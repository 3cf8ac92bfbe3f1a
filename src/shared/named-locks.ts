/**
 * Named locks (resource groups): locks shared by every pipeline, such as `env:prod`, that a stage names in
 * `locks`. They are declared in the config file's `locks` section with their order; one workflow
 * (`paso-named-locks`) holds them all, so that an execution takes every lock its stage names at once or
 * waits for all of them. This module is the vocabulary both sides share: names, orders, the view.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './temporal.js';
import { once } from './once.js';

/** Letters, digits and `:._-`, so that a name reads well in a URL (`/locks/env:prod`) and in a log. */
const LOCK_NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,99}$/;

/**
 * Who a free lock goes to: `fifo` (the order requests reached the lock), `oldest-first` (the execution
 * triggered first, wherever it is), `newest-first` (the newest waiter; older waiters are superseded, as in a
 * SUPERSEDED pipeline).
 */
export const LOCK_ORDERS = ['fifo', 'oldest-first', 'newest-first'] as const;
export type LockOrder = (typeof LOCK_ORDERS)[number];

/** `exclusive`: one holder (a deployment); `shared`: any number of shared holders while nobody holds it exclusively. */
export const LOCK_MODES = ['exclusive', 'shared'] as const;
export type LockMode = (typeof LOCK_MODES)[number];

/** The most named locks one stage may take at once. */
export const MAX_STAGE_LOCKS = 10;

/** Built on first use and held here, as the definition's schemas are (see `definitionSchemas`). */
export const lockSchemas = once(buildLockSchemas);

type LockSchemas = ReturnType<typeof buildLockSchemas>;

function buildLockSchemas() {
  const lockName = z
    .string()
    .regex(LOCK_NAME, 'letters, digits, ":", "_", "." and "-", starting with a letter or digit, at most 100');
  /** A lock a stage needs, as the definition may write it: a name (exclusive) or `{ name, mode }`. */
  const stageLock = z.union([
    lockName,
    z.object({ name: lockName, mode: z.enum(LOCK_MODES).default('exclusive') }).strict(),
  ]);
  return { lockName, stageLock };
}

export type StageLock = z.output<LockSchemas['stageLock']>;

export interface LockNeed {
  name: string;
  mode: LockMode;
}

/** A stage's `locks`, each with its mode. */
export function lockNeeds(locks: readonly StageLock[] | undefined): LockNeed[] {
  return (locks ?? []).map((l) => (typeof l === 'string' ? { name: l, mode: 'exclusive' } : l));
}

/** The environment variable that gives a command the fencing token of its lock: `env:prod` → `PASO_LOCK_TOKEN_ENV_PROD`. */
export function lockTokenVariable(name: string): string {
  return `PASO_LOCK_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Lock names that clash, each with the reason: a name given again (`twice`, the caller's word for it), or
 * another name that would give commands the same `PASO_LOCK_TOKEN_<NAME>`. For the config's `locks` and a
 * stage's alike.
 */
export function clashingLockNames(names: readonly string[], twice: string): { index: number; message: string }[] {
  const seen = new Map<string, string>();
  return names.flatMap((name, index) => {
    const variable = lockTokenVariable(name);
    const other = seen.get(variable);
    seen.set(variable, name);
    if (other === undefined) return [];
    const message = other === name ? twice : `"${other}" and "${name}" would both give ${variable} to commands`;
    return [{ index, message }];
  });
}

/**
 * The workflow that holds every named lock of a deployment: `paso-named-locks`, or `paso-named-locks:<task
 * queue>` for a deployment on another task queue (deployments sharing a namespace each have their own).
 */
export function namedLocksWorkflowId(taskQueue: string): string {
  return taskQueue === DEFAULT_TASK_QUEUE ? 'paso-named-locks' : `paso-named-locks:${taskQueue}`;
}

export interface LockHolderView {
  executionId: string;
  stage: string;
  mode: LockMode;
  /** The fencing token of this grant: larger than every earlier grant's of the lock. */
  token: number;
  since: string;
}

export interface LockWaiterView {
  executionId: string;
  stage: string;
  mode: LockMode;
  since: string;
  /** 1 is the next to be considered for this lock (by its order). */
  position: number;
  /** The other locks it asked for at the same time (it takes them all at once). */
  with: string[];
}

export interface LockView {
  name: string;
  order: LockOrder;
  /** The last fencing token given out (0: never granted). */
  token: number;
  holders: LockHolderView[];
  waiters: LockWaiterView[];
}
