/**
 * What a coordinator started afresh needs from Temporal to take over its pipeline (its first run, or a new
 * run after the previous one was terminated): the previous run's last state (read by query: Temporal answers
 * queries on closed workflows by replaying them), the highest execution number, and for each running
 * execution the stage it holds or waits in front of (read from its own view). See `CoordinatorState.recover`.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ExecutionView } from '../shared/execution-view.js';
import { parseExecutionId } from '../shared/execution.js';
import { executionQuery, pipelineQuery } from '../shared/messages.js';
import type { Recovered } from '../workflows/coordinator-state.js';

export interface RecoverDeps {
  client: Client;
}

export interface RecoverPipelineInput {
  pipeline: string;
  coordinatorWorkflowId: string;
}

export async function recoverPipeline(deps: RecoverDeps, input: RecoverPipelineInput): Promise<Recovered> {
  const ctx = Context.current();
  const { client } = deps;
  const previous = await previousSnapshot(client, input.coordinatorWorkflowId);
  let highestExecution = 0;
  const running: Recovered['running'] = [];
  const query = `WorkflowType = 'execution' AND PasoPipeline = '${input.pipeline}'`;
  for await (const wf of client.workflow.list({ query })) {
    ctx.heartbeat();
    const n = parseExecutionId(wf.workflowId)?.n;
    if (n === undefined) continue;
    highestExecution = Math.max(highestExecution, n);
    if (wf.status.name !== 'RUNNING') continue;
    const view = await client.workflow
      .getHandle(wf.workflowId)
      .query(executionQuery)
      .catch(() => null);
    if (view) running.push({ executionId: wf.workflowId, n, ...placeOf(view) });
  }
  return { previous, highestExecution, running };
}

/** The last state of the coordinator's newest closed run, or null when there is none Temporal still keeps. */
async function previousSnapshot(client: Client, workflowId: string) {
  const runId = await newestClosedRun(client, workflowId);
  if (!runId) return null;
  return client.workflow
    .getHandle(workflowId, runId)
    .query(pipelineQuery)
    .catch(() => null);
}

/**
 * The run id of the newest closed run of a workflow (terminated, or ended), or null when Temporal keeps none.
 * Temporal answers queries on it by replaying it: what a run started afresh recovers from.
 */
export async function newestClosedRun(client: Client, workflowId: string): Promise<string | null> {
  const query = `WorkflowId = '${workflowId}' AND ExecutionStatus != 'Running'`;
  let newest: { runId: string; closed: number } | null = null;
  for await (const wf of client.workflow.list({ query })) {
    Context.current().heartbeat();
    const closed = wf.closeTime?.getTime() ?? 0;
    if (!newest || closed > newest.closed) newest = { runId: wf.runId, closed };
  }
  return newest?.runId ?? null;
}

/**
 * Where a running execution is: in a stage (its lock is its), or waiting in front of one. One waiting for its
 * stage's named locks already holds the stage's own lock (taken first).
 */
function placeOf(view: ExecutionView): { holds: string | null; waitsFor: string | null } {
  if (view.executionMode === 'PARALLEL') return { holds: null, waitsFor: null };
  const active = view.stages.find((s) => s.status === 'InProgress' || s.status === 'Stopping');
  if (active) return { holds: active.name, waitsFor: null };
  if (view.waiting?.for === 'LOCK') return { holds: view.waiting.stage, waitsFor: null };
  return { holds: null, waitsFor: view.waiting?.stage ?? null };
}
