/**
 * The coordinator's watcher: while the coordinator holds locks or places, it checks every few seconds that
 * those executions still run, and returns the ones that do not (terminated, timed out, cancelled from the
 * Temporal UI or CLI) or whose workflow tasks keep failing, so their locks and places are freed within
 * seconds. It reads the coordinator's lists by query and runs in a loop inside one activity, so watching
 * writes nothing to history until something is found.
 *
 * A sweep must stay cheap with hundreds waiting, and never outlive the activity's heartbeat timeout:
 * - Lock holders (one per stage slot) block everyone behind them: each sweep describes every one of them.
 *   Describe is authoritative (the latest run, so a reset execution counts as running) and shows a workflow
 *   task that keeps failing.
 * - Waiters are checked in batches through visibility (`WorkflowId IN (...)`, {@link VISIBILITY_BATCH} ids a
 *   query): one with a running run is alive. Visibility lags behind: an id not listed yet (just started), or
 *   listed with no running run (a reset's new run may not be visible yet), is described before it is called
 *   gone. Nothing is freed on visibility's word alone.
 * - A waiter whose tasks keep failing blocks nobody until it is admitted, when it becomes a holder and is
 *   described every sweep; so waiters are described at a slower cadence: the least recently described
 *   1/{@link WAITER_ROUNDS} of them each sweep (every ~30 s at a 3 s interval), with bounded concurrency.
 * - It heartbeats after every query and every describe, not once a sweep.
 */
import { Context } from '@temporalio/activity';
import type { Client, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { namedLocksQuery, pipelineStateQuery, watchedExecutionsQuery } from '../shared/messages.js';
import { executionWorkflowId } from '../shared/temporal.js';
import { mapLimit } from '../map-limit.js';

export interface WatchDeps {
  client: Client;
  watchIntervalMs: number;
  /** The watcher returns after this long even when all is well, so that it never outlives its timeout. */
  watchMaxRunMs: number;
}

export interface WatchExecutionsInput {
  /** The workflow whose executions are watched: a coordinator, or the named locks (`kind`). */
  coordinatorWorkflowId: string;
  /** Absent: a pipeline's coordinator. */
  kind?: 'coordinator' | 'named-locks';
}

/**
 * A workflow task on this attempt has failed twice in a row. The worker reports only the first failure and
 * lets later attempts time out (10 s each), so attempt 3 is reached about 10 s after the first failure. Workflow
 * code is deterministic: a failure that recurs on a fresh replay (a non-determinism error after an
 * incompatible deploy, a bug) recurs until new code is deployed. A lost worker costs one attempt, a worker that
 * is merely down costs none (the task waits unstarted), so a healthy execution does not reach it.
 */
const WEDGED_ATTEMPT = 3;
/** Ids per visibility query: well within SQL and Elasticsearch limits, and few queries for hundreds waiting. */
const VISIBILITY_BATCH = 100;
/** Waiters are described in this many sweeps each. */
const WAITER_ROUNDS = 10;
/** Describes in flight at once: bounded, so a sweep does not flood the frontend. */
const DESCRIBE_CONCURRENCY = 8;
/** Ids safe to quote in a visibility query (execution ids are `<pipeline>-<n>`); others are described. */
const QUOTABLE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export async function watchExecutions(deps: WatchDeps, input: WatchExecutionsInput): Promise<string[]> {
  const ctx = Context.current();
  const coordinator = deps.client.workflow.getHandle(input.coordinatorWorkflowId);
  const described = new Map<string, number>();
  const deadline = Date.now() + deps.watchMaxRunMs;
  while (Date.now() < deadline) {
    ctx.heartbeat();
    const watched = await abortable(deps.client, () => coordinator.query(watchedExecutionsQuery));
    if (watched.length === 0) return [];
    const held = await abortable(deps.client, () => holdersOf(coordinator, input.kind ?? 'coordinator'));
    ctx.heartbeat();
    const holders = watched.filter((id) => held.has(id));
    const waiters = watched.filter((id) => !held.has(id));
    const found = await sweep(deps.client, holders, waiters, described);
    // Most of what a sweep finds gone left by itself meanwhile (a holder that ended after leaving its stage):
    // only those still watched are returned, so the workflow is woken (and writes history) only for real work.
    const gone = found.length > 0 ? await stillWatched(deps.client, coordinator, found) : [];
    if (gone.length > 0) return gone;
    await ctx.sleep(deps.watchIntervalMs);
  }
  return [];
}

/** Of `ids`, those the workflow still watches. */
async function stillWatched(client: Client, workflow: WorkflowHandle, ids: string[]): Promise<string[]> {
  const watched = new Set(await abortable(client, () => workflow.query(watchedExecutionsQuery)));
  Context.current().heartbeat();
  return ids.filter((id) => watched.has(id));
}

/** Who holds a lock of the coordinator (stage locks) or of the named locks: they are described every sweep. */
async function holdersOf(workflow: WorkflowHandle, kind: 'coordinator' | 'named-locks'): Promise<Set<string>> {
  if (kind === 'named-locks') {
    const locks = await workflow.query(namedLocksQuery);
    return new Set(locks.flatMap((l) => l.holders.map((h) => h.executionId)));
  }
  const state = await workflow.query(pipelineStateQuery);
  // Every holder of a stage with several slots (`holders` is absent from a coordinator older than those).
  return new Set(state.stages.flatMap((s) => (s.holders as string[] | undefined) ?? [s.lockedBy ?? '']));
}

/** One sweep: the executions that are gone, holders first. `described` remembers when each waiter was. */
async function sweep(
  client: Client,
  holders: string[],
  waiters: string[],
  described: Map<string, number>,
): Promise<string[]> {
  const waiting = new Set(waiters);
  for (const id of described.keys()) if (!waiting.has(id)) described.delete(id);
  const unsure = await notSeenRunning(client, waiters);
  const due = waiters
    .filter((id) => !unsure.has(id))
    .sort((a, b) => (described.get(a) ?? 0) - (described.get(b) ?? 0))
    .slice(0, Math.ceil(waiters.length / WAITER_ROUNDS));
  const toDescribe = [...holders, ...unsure, ...due];
  const now = Date.now();
  for (const id of [...unsure, ...due]) described.set(id, now);
  const verdicts = await mapLimit(toDescribe, DESCRIBE_CONCURRENCY, (id) => isGone(client, id));
  return toDescribe.filter((_, i) => verdicts[i]);
}

/**
 * The waiters visibility does not show running: not listed (yet), or listed with every run closed. The others
 * have a running run, which visibility shows only after it started.
 */
async function notSeenRunning(client: Client, ids: string[]): Promise<Set<string>> {
  const ctx = Context.current();
  const unsure = new Set(ids.filter((id) => !QUOTABLE_ID.test(id)));
  const quotable = ids.filter((id) => QUOTABLE_ID.test(id));
  for (let i = 0; i < quotable.length; i += VISIBILITY_BATCH) {
    const batch = quotable.slice(i, i + VISIBILITY_BATCH);
    const running = new Set<string>();
    const query = `WorkflowId IN (${batch.map((id) => `'${executionWorkflowId(id)}'`).join(', ')})`;
    await abortable(client, async () => {
      for await (const run of client.workflow.list({ query, pageSize: 1_000 })) {
        if (run.status.name === 'RUNNING') running.add(run.workflowId);
      }
    });
    ctx.heartbeat();
    for (const id of batch) if (!running.has(executionWorkflowId(id))) unsure.add(id);
  }
  return unsure;
}

/** Whether the execution no longer runs (its latest run, so a reset one runs), or its workflow task keeps failing. */
async function isGone(client: Client, executionId: string): Promise<boolean> {
  let description: WorkflowExecutionDescription;
  try {
    description = await abortable(client, () => client.workflow.getHandle(executionWorkflowId(executionId)).describe());
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return true;
    throw err;
  } finally {
    Context.current().heartbeat();
  }
  if (description.status.name !== 'RUNNING') return true;
  return (description.raw.pendingWorkflowTask?.attempt ?? 0) >= WEDGED_ATTEMPT;
}

/**
 * Runs `fn`'s calls to Temporal so that they end with the activity (cancelled, or its worker shutting down): a
 * query to a coordinator whose worker is going away would otherwise hold the shutdown for its 30 s timeout.
 * Each call gets a signal of its own, because the client never removes the listeners it adds to one.
 */
async function abortable<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  const activity = Context.current().cancellationSignal;
  const own = new AbortController();
  const abort = () => own.abort(activity.reason);
  if (activity.aborted) abort();
  else activity.addEventListener('abort', abort, { once: true });
  try {
    return await client.withAbortSignal(own.signal, fn);
  } catch (err) {
    // Report a cancellation as one (CancelledFailure), not as a failed call.
    throw activity.aborted ? activity.reason : err;
  } finally {
    activity.removeEventListener('abort', abort);
  }
}
