/**
 * Rollback after a failure (`rollbackOnFailure`; never after a rejection or a stop): the `rollback` scripts
 * of the actions that succeeded run one by one, newest completion first, each logged like a command.
 */
import type { ExecutionInput } from '../shared/execution.js';
import { executeCommand, withTokens } from './actions.js';
import type { ExecutionState } from './execution-state.js';

/** Rollbacks run while the failed stage still holds its named locks: `lockTokens` are theirs. */
export async function rollBack(
  input: ExecutionInput,
  state: ExecutionState,
  now: () => string,
  lockTokens: Record<string, number> = {},
): Promise<void> {
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
    const { outcome, error } = await executeCommand(
      {
        executionId: input.executionId,
        pipeline: input.pipeline,
        stage,
        action: `${action}.rollback`,
        run: spec.rollback!,
        variables: input.variables,
        timeoutSeconds: spec.timeoutSeconds,
        ...(spec.secrets?.length ? { secrets: spec.secrets } : {}),
        ...withTokens(lockTokens),
      },
      {
        timeoutSeconds: spec.timeoutSeconds,
        summary: `rollback ${stage}/${action}`,
        onWorkerLoss: spec.onWorkerLoss ?? 'fail',
        now,
      },
    );
    failed ||= error !== null;
    state.rollbackStep({
      stage,
      action,
      status: error ? 'Failed' : 'Succeeded',
      startedAt,
      endedAt: now(),
      error,
      outputTail: outcome?.outputTail ?? null,
    });
  }
  state.rollbackEnded(failed ? 'Failed' : 'Succeeded');
}
