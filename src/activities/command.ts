/**
 * The `command` action as an activity: the script runs through {@link runScript} in the execution's
 * workspace with the pipeline's variables in the environment (never spliced into the script), heartbeats
 * while it runs, and its process group is killed when the activity is cancelled (stop and abandon) or the
 * action times out.
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { actionLogPath, workspacePath } from '../data-dir.js';
import { runScript } from '../process-runner.js';
import type { Variables } from '../shared/definition.js';
import { ErrorTypes } from '../shared/messages.js';
import type { CommandOutcome } from '../workflows/execution-state.js';

export interface RunCommandInput {
  executionId: string;
  pipeline: string;
  stage: string;
  action: string;
  run: string;
  variables: Variables;
  timeoutSeconds: number;
}

export interface CommandDeps {
  dataDir: string;
  /** How long a command has between SIGTERM and SIGKILL. */
  killGraceMs: number;
  heartbeatMs: number;
}

export async function runCommand(deps: CommandDeps, input: RunCommandInput): Promise<CommandOutcome> {
  return runInWorkspace(deps, {
    executionId: input.executionId,
    run: input.run,
    env: { ...input.variables, PASO_STAGE: input.stage, PASO_ACTION: input.action },
    pipeline: input.pipeline,
    logPath: actionLogPath(deps.dataDir, input.executionId, input.stage, input.action),
    timeoutSeconds: input.timeoutSeconds,
  });
}

/**
 * Runs a script in the execution's workspace as the current activity: heartbeats, killed with its process
 * group on cancellation or timeout. A failure is a non-retryable ApplicationFailure carrying the outcome.
 */
export async function runInWorkspace(
  deps: CommandDeps,
  input: {
    executionId: string;
    pipeline: string;
    run: string;
    env: Record<string, string>;
    logPath: string;
    timeoutSeconds: number;
  },
): Promise<CommandOutcome> {
  const ctx = Context.current();
  const cwd = workspacePath(deps.dataDir, input.executionId);
  const result = await runScript({
    script: input.run,
    env: {
      ...input.env,
      PASO_PIPELINE: input.pipeline,
      PASO_EXECUTION_ID: input.executionId,
      PASO_WORKSPACE: cwd,
    },
    cwd,
    logPath: input.logPath,
    label: `attempt ${ctx.info.attempt}`,
    timeoutSeconds: input.timeoutSeconds,
    killGraceMs: deps.killGraceMs,
    signal: ctx.cancellationSignal,
    onTick: () => ctx.heartbeat(),
    tickMs: deps.heartbeatMs,
  });
  const outcome: CommandOutcome = {
    exitCode: result.exitCode,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    outputTail: result.outputTail,
  };
  if (result.killedFor === 'abort') {
    // The SDK tells a cancellation from a worker shutdown by this reason; hand it back as it came.
    throw ctx.cancellationSignal.reason ?? new CancelledFailure('command abandoned: its process group was killed');
  }
  if (result.killedFor === 'timeout') {
    throw ApplicationFailure.create({
      message: `timed out after ${input.timeoutSeconds}s`,
      type: ErrorTypes.CommandTimedOut,
      nonRetryable: true,
      details: [outcome],
    });
  }
  if (!result.ok) {
    throw ApplicationFailure.create({
      message: result.description,
      type: ErrorTypes.CommandFailed,
      nonRetryable: true,
      details: [outcome],
    });
  }
  return outcome;
}
