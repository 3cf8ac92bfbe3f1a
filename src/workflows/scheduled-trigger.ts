/** Started by a pipeline's Temporal Schedule: triggers one execution, as the API would, and returns its id. */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { triggerScheduled } = proxyActivities<Activities>({
  summary: 'trigger the scheduled execution',
  // CHECK runs inside (up to an hour a check); the activity heartbeats, so a lost worker shows in 30 s.
  startToCloseTimeout: '24h',
  heartbeatTimeout: '30s',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['PipelineDeleted'] },
});

export interface ScheduledTriggerInput {
  pipeline: string;
}

export async function scheduledTrigger(input: ScheduledTriggerInput): Promise<string> {
  return triggerScheduled({ pipeline: input.pipeline, firingId: workflowInfo().workflowId });
}
