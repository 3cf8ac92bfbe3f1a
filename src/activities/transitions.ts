/**
 * A transition disabled on a PARALLEL pipeline: its running executions, which never ask the coordinator
 * unless told to, are told here, so the coordinator's history does not grow by a signal per execution.
 * Those Temporal's visibility lists are told at once; those given their ids lately (which visibility may not
 * list yet, or whose workflow the gateway is about to start) are told as soon as their workflow exists.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { transitionClosedSignal } from '../shared/messages.js';
import type { RecentAllocation } from '../workflows/coordinator-state.js';

export interface TransitionDeps {
  client: Client;
}

export interface TellTransitionClosedInput {
  pipeline: string;
  stage: string;
  recent: RecentAllocation[];
  /** How long after its id was given an execution may still start. */
  graceMs: number;
}

/** Tells every running execution of `pipeline` that `stage`'s transition is disabled; returns how many. */
export async function tellTransitionClosed(deps: TransitionDeps, input: TellTransitionClosedInput): Promise<number> {
  const ctx = Context.current();
  const { client } = deps;
  const tell = (id: string) => client.workflow.getHandle(id).signal(transitionClosedSignal, { stage: input.stage });
  const told = new Set<string>();
  const query = `WorkflowType = 'execution' AND PasoPipeline = '${input.pipeline}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) {
    ctx.heartbeat();
    // One that ended since it was listed has nothing left to enter.
    await tell(wf.workflowId).then(
      () => told.add(wf.workflowId),
      (err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      },
    );
  }
  for (const { executionId, at } of input.recent) {
    if (told.has(executionId)) continue;
    for (;;) {
      ctx.heartbeat();
      try {
        // One that has ended already has nothing left to enter.
        const { status } = await client.workflow.getHandle(executionId).describe();
        if (status.name === 'RUNNING') await tell(executionId).then(() => told.add(executionId));
        break;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // Not started yet (or its trigger was refused and it never will be): wait while it still may start.
        if (Date.now() > Date.parse(at) + input.graceMs) break;
        await ctx.sleep(100);
      }
    }
  }
  return told.size;
}
