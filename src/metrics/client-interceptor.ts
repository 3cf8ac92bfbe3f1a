/**
 * A client interceptor on the gateway's Temporal client that times people's decisions: when a decision on
 * an approval or a pause is accepted (its Update completed without failure), it reads the execution's view
 * (one query, to a workflow the worker has just had in hand) for when the step started waiting, and observes
 * the wait. HTTP and ChatOps decisions go through the same client, so both are counted. Trap decisions are
 * not timed: the view does not say when a trap started waiting.
 */
import type {
  Next,
  WorkflowClientInterceptor,
  WorkflowStartUpdateInput,
  WorkflowStartUpdateOutput,
  WorkflowClient,
} from '@temporalio/client';
import { executionQuery } from '../shared/messages.js';
import { decisionWait } from './metrics.js';

const TIMED = {
  decideApproval: 'approval',
  decideResume: 'pause',
} as const;

export class DecisionTimingInterceptor implements WorkflowClientInterceptor {
  /** The client this interceptor is installed on (set after the client is made: it needs the interceptor). */
  workflows: WorkflowClient | null = null;

  async startUpdate(
    input: WorkflowStartUpdateInput,
    next: Next<WorkflowClientInterceptor, 'startUpdate'>,
  ): Promise<WorkflowStartUpdateOutput> {
    const output = await next(input);
    const kind = TIMED[input.updateName as keyof typeof TIMED];
    if (kind && output.outcome?.success && this.workflows) {
      const at = Date.now();
      const decision = input.args[0] as { stage?: string; action?: string; decision?: string } | undefined;
      void this.observe(input.workflowExecution.workflowId, kind, decision, at);
    }
    return output;
  }

  private async observe(
    workflowId: string,
    kind: (typeof TIMED)[keyof typeof TIMED],
    decision: { stage?: string; action?: string; decision?: string } | undefined,
    at: number,
  ): Promise<void> {
    try {
      const view = await this.workflows!.getHandle(workflowId).query(executionQuery);
      const action = view.stages
        .find((s) => s.name === decision?.stage)
        ?.actions.find((a) => a.name === decision?.action);
      if (!action?.startedAt) return;
      const seconds = Math.max(0, at - Date.parse(action.startedAt)) / 1000;
      decisionWait.observe({ pipeline: view.pipeline, kind, decision: decision?.decision ?? 'resume' }, seconds);
    } catch {
      // A metric is not worth a failure: the decision has been taken.
    }
  }
}
