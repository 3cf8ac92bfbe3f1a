/**
 * Running one action of an execution: a command is an activity, a wait a durable timer. Called inside the
 * stage's cancellation scope, so a stop-and-abandon cancels whatever runs here.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Action, CommandAction, Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import { ErrorTypes } from '../shared/messages.js';
import type { CommandOutcome, ExecutionState } from './execution-state.js';

/** Time a worker has beyond the action's own timeout to report back before Temporal gives up on it. */
const ACTIVITY_SLACK_SECONDS = 60;

export interface ActionContext {
  input: ExecutionInput;
  state: ExecutionState;
  now: () => string;
  /** Whether a cancellation now is a stop-and-abandon (else the workflow itself is being cancelled). */
  abandoning: () => boolean;
}

/** Runs one action to its end and records it; returns its error, or null when it succeeded or was abandoned. */
export async function runAction(ctx: ActionContext, stage: Stage, action: Action): Promise<string | null> {
  const { state, now } = ctx;
  state.actionStarted(stage.name, action.name, now());
  try {
    const error = await perform(ctx, stage, action);
    state.actionEnded(stage.name, action.name, error ? 'Failed' : 'Succeeded', now(), error);
    return error;
  } catch (err) {
    if (!isCancellation(err) || !ctx.abandoning()) throw err;
    state.actionEnded(stage.name, action.name, 'Abandoned', now(), 'abandoned by a stop');
    return null;
  }
}

async function perform(ctx: ActionContext, stage: Stage, action: Action): Promise<string | null> {
  switch (action.type) {
    case 'command':
      return runCommandAction(ctx, stage, action);
    case 'wait':
      await sleep(action.seconds * 1000, { summary: `${stage.name}/${action.name}: wait ${action.seconds}s` });
      return null;
    default:
      // Approvals and pauses come with Paso's manual steps; until then they fail loudly, never pass.
      return `"${action.type}" actions are not supported by this version of Paso`;
  }
}

async function runCommandAction(ctx: ActionContext, stage: Stage, action: CommandAction): Promise<string | null> {
  const { input, state } = ctx;
  const { runCommand } = proxyActivities<Activities>({
    summary: `${stage.name}/${action.name}`,
    startToCloseTimeout: `${action.timeoutSeconds + ACTIVITY_SLACK_SECONDS}s`,
    heartbeatTimeout: '15s',
    // Abandoning waits until the command's process group is really gone.
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    // A command that fails is not retried by Temporal: that is a person's decision. Only a lost worker
    // (heartbeat timeout) makes Temporal run it again, on another worker.
    retry: {
      maximumAttempts: 3,
      initialInterval: '1s',
      nonRetryableErrorTypes: [ErrorTypes.CommandFailed, ErrorTypes.CommandTimedOut],
    },
  });
  try {
    const outcome = await runCommand({
      executionId: input.executionId,
      pipeline: input.pipeline,
      stage: stage.name,
      action: action.name,
      run: action.run,
      variables: input.variables,
      timeoutSeconds: action.timeoutSeconds,
    });
    state.commandOutcome(stage.name, action.name, outcome);
    return null;
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) {
      const outcome = cause.details?.[0] as CommandOutcome | undefined;
      if (outcome) state.commandOutcome(stage.name, action.name, outcome);
      return cause.message;
    }
    return cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
}

export function ignoresErrors(action: Action): boolean {
  return action.type === 'command' && action.onError === 'ignore';
}
