/**
 * The coordinator's watcher: while the coordinator holds locks or places, it checks every few seconds that
 * those executions still run, and returns the ones that do not (terminated, timed out, cancelled from the
 * Temporal UI or CLI), so their locks are freed within seconds. It reads the coordinator's list by query
 * and runs in a loop inside one activity, so watching writes nothing to history until something is found.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { watchedExecutionsQuery } from '../shared/messages.js';
import { executionWorkflowId } from '../shared/temporal.js';

export interface WatchDeps {
  client: Client;
  watchIntervalMs: number;
  /** The watcher returns after this long even when all is well, so that it never outlives its timeout. */
  watchMaxRunMs: number;
}

export interface WatchExecutionsInput {
  coordinatorWorkflowId: string;
}

export async function watchExecutions(deps: WatchDeps, input: WatchExecutionsInput): Promise<string[]> {
  const ctx = Context.current();
  const coordinator = deps.client.workflow.getHandle(input.coordinatorWorkflowId);
  const deadline = Date.now() + deps.watchMaxRunMs;
  while (Date.now() < deadline) {
    ctx.heartbeat();
    const watched = await coordinator.query(watchedExecutionsQuery);
    if (watched.length === 0) return [];
    const gone: string[] = [];
    for (const executionId of watched) {
      if (!(await isRunning(deps.client, executionId))) gone.push(executionId);
    }
    if (gone.length > 0) return gone;
    await ctx.sleep(deps.watchIntervalMs);
  }
  return [];
}

/** Whether the execution's workflow (its latest run, so a reset one counts) is still running. */
async function isRunning(client: Client, executionId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(executionWorkflowId(executionId)).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
