/**
 * Rollback after a failure (`rollbackOnFailure`; never after a rejection or a stop): the `rollback` scripts
 * of the actions that succeeded run one by one, newest completion first, each logged like a command.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ExecutionInput } from '../shared/execution.js';
import { ErrorTypes } from '../shared/messages.js';
import type { CommandOutcome, ExecutionState } from './execution-state.js';

export async function rollBack(input: ExecutionInput, state: ExecutionState, now: () => string): Promise<void> {
  const steps = state.succeededNewestFirst().flatMap(({ stage, action }) => {
    const spec = input.definition.stages.find((s) => s.name === stage)?.actions.find((a) => a.name === action);
    return spec?.type === 'command' && spec.rollback ? [{ stage, action, spec }] : [];
  });
  if (steps.length === 0) return;
  state.rollbackStarted();
  let failed = false;
  for (const { stage, action, spec } of steps) {
    const startedAt = now();
    state.rollbackStep({
      stage,
      action,
      status: 'InProgress',
      startedAt,
      endedAt: null,
      error: null,
      outputTail: null,
    });
    const { runCommand } = proxyActivities<Activities>({
      summary: `rollback ${stage}/${action}`,
      startToCloseTimeout: `${spec.timeoutSeconds + 60}s`,
      heartbeatTimeout: '15s',
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      retry: { maximumAttempts: 3, nonRetryableErrorTypes: [ErrorTypes.CommandFailed, ErrorTypes.CommandTimedOut] },
    });
    try {
      const outcome = await runCommand({
        executionId: input.executionId,
        pipeline: input.pipeline,
        stage,
        action: `${action}.rollback`,
        run: spec.rollback!,
        variables: input.variables,
        timeoutSeconds: spec.timeoutSeconds,
      });
      state.rollbackStep({
        stage,
        action,
        status: 'Succeeded',
        startedAt,
        endedAt: now(),
        error: null,
        outputTail: outcome.outputTail,
      });
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      const outcome =
        cause instanceof ApplicationFailure ? (cause.details?.[0] as CommandOutcome | undefined) : undefined;
      failed = true;
      state.rollbackStep({
        stage,
        action,
        status: 'Failed',
        startedAt,
        endedAt: now(),
        error: cause?.message ?? String(err),
        outputTail: outcome?.outputTail ?? null,
      });
    }
  }
  state.rollbackEnded(failed ? 'Failed' : 'Succeeded');
}
