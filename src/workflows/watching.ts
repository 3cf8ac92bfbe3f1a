/**
 * What the coordinator and the named locks' workflow share: the watcher activity that finds executions gone
 * without saying so, and the way both live until Temporal suggests continue-as-new.
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

export const { watchExecutions } = proxyActivities<Activities>({
  summary: 'watch lock holders and waiting executions',
  startToCloseTimeout: '70m',
  heartbeatTimeout: '30s',
  // Continue-as-new cancels the watcher and must not wait for it.
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/**
 * Runs `background` (the watcher and other loops) until Temporal suggests continue-as-new, then cancels it and
 * waits until `settled()` (outgoing signals delivered) and every handler has finished: the state is then
 * complete, and the caller continues-as-new with it.
 */
export async function runUntilContinueAsNew(background: () => Promise<unknown>, settled: () => boolean): Promise<void> {
  const scope = new CancellationScope();
  const running = scope.run(background).catch((err: unknown) => {
    if (!isCancellation(err)) throw err;
  });
  await condition(() => workflowInfo().continueAsNewSuggested);
  scope.cancel();
  await running;
  await condition(() => settled() && allHandlersFinished());
}
