/**
 * What the named locks' workflow needs when it starts afresh (not by continue-as-new): the state of its
 * previous run, if it was terminated (read by query: Temporal answers queries on a closed workflow by
 * replaying it), and which of those holders and waiters are no longer where that state says. An execution
 * that left its stage while the workflow was gone could not give its locks back (its signal found no
 * workflow): it is stale, and so is a waiter that stopped waiting.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { ExecutionView } from '../shared/execution-view.js';
import { executionQuery, namedLockDataQuery } from '../shared/messages.js';
import { executionWorkflowId } from '../shared/temporal.js';
import { mapLimit } from '../map-limit.js';
import { newestClosedRun } from './recover.js';
import type { NamedLockData } from '../workflows/named-lock-table.js';

export interface RecoverNamedLocksInput {
  workflowId: string;
}

export interface RecoveredNamedLocks {
  data: NamedLockData;
  /** Holders and waiters to drop: the execution ended, or is no longer in (or waiting for) that stage. */
  stale: { executionId: string; stage: string }[];
}

export async function recoverNamedLocks(
  deps: { client: Client },
  input: RecoverNamedLocksInput,
): Promise<RecoveredNamedLocks | null> {
  const { client } = deps;
  const runId = await newestClosedRun(client, input.workflowId);
  if (!runId) return null;
  // A query that fails is retried with the activity, never taken for an empty state: that would grant locks
  // still held.
  Context.current().heartbeat();
  const data = (await client.workflow.getHandle(input.workflowId, runId).query(namedLockDataQuery)) as NamedLockData;
  Context.current().heartbeat();
  const places = [
    ...Object.values(data.locks).flatMap((l) => l.holders.map((h) => ({ ...h, holds: true }))),
    ...data.waiting.map((w) => ({ executionId: w.executionId, stage: w.stage, holds: false })),
  ];
  const verdicts = await mapLimit(places, 8, async (p) => {
    Context.current().heartbeat();
    const view = await client.workflow
      .getHandle(executionWorkflowId(p.executionId))
      .query(executionQuery)
      .catch((err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return null;
        throw err;
      });
    return view !== null && (p.holds ? holdsStage(view, p.stage) : waitsForLocks(view, p.stage));
  });
  const stale = places.filter((_, i) => !verdicts[i]).map(({ executionId, stage }) => ({ executionId, stage }));
  return { data, stale };
}

/**
 * In the stage, or rolling back after failing in it (named locks are held through a rollback), or still
 * asking: its grant was lost with the terminated run (it asks again, and is told again).
 */
function holdsStage(view: ExecutionView, stage: string): boolean {
  const status = view.stages.find((s) => s.name === stage)?.status;
  if (status === 'InProgress' || status === 'Stopping') return true;
  return (status === 'Failed' && view.rollback?.status === 'InProgress') || waitsForLocks(view, stage);
}

/** Still in front of the stage, asking for its named locks (a retried stage too, whatever it showed before). */
function waitsForLocks(view: ExecutionView, stage: string): boolean {
  return view.status === 'InProgress' && view.waiting?.for === 'LOCK' && view.waiting.stage === stage;
}
