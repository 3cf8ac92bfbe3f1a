/**
 * The `command` action as an activity: the script runs through {@link runScript} in the execution's
 * workspace with the pipeline's variables in the environment (never spliced into the script), heartbeats
 * while it runs, and its process group is killed when the activity is cancelled (stop and abandon), the
 * action times out, the worker loses its lease on the attempt (fencing, see lease.ts) or the worker shuts
 * down past its grace period. The last two are a lost worker: the workflow decides what follows
 * (`onWorkerLoss`).
 */
import { lockTokenVariable } from '../shared/named-locks.js';
import type { Client } from '@temporalio/client';
import type { Dir } from 'node:fs';
import { opendir } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { actionLogKey, logPath } from '../data-dir.js';
import type { PasoStore } from '../store/store.js';
import { shipLog } from './log-shipper.js';
import { runScript } from '../process-runner.js';
import type { Variables } from '../shared/definition.js';
import { ErrorTypes, leaveStageSignal, requestStageSignal } from '../shared/messages.js';
import type { CommandOutcome } from '../workflows/execution-state.js';
import type { HandOff } from '../workflows/hand-off.js';
import { holdLease } from './lease.js';
import { SecretUnavailable, type Secrets } from '../secrets.js';
import { neverLog } from '../log.js';
import { commandDuration } from '../metrics/metrics.js';

export interface RunCommandInput {
  executionId: string;
  pipeline: string;
  stage: string;
  action: string;
  run: string;
  variables: Variables;
  timeoutSeconds: number;
  /** Names of the secrets the script receives; this worker reads their values as it starts. */
  secrets?: string[];
  /** The fencing tokens of the named locks its stage holds: `PASO_LOCK_TOKEN_<NAME>` in its environment. */
  lockTokens?: Record<string, number>;
  /** The stage's last command gives its lock on as it exits 0, with this signal to the coordinator. */
  handOff?: HandOff;
}

/** How long the hand-off's signal may take before the workflow is left to send it itself. */
const HAND_OFF_DEADLINE_MS = 5_000;

export interface CommandDeps {
  dataDir: string;
  /** How long a command has between SIGTERM and SIGKILL. */
  killGraceMs: number;
  heartbeatMs: number;
  /** For the lease's own heartbeats. */
  client: Client;
  namespace: string;
  /** This worker process: `<pid>@<host>`, as Temporal shows it. */
  identity: string;
  /** Where this worker keeps executions' workspaces and the task queue that reaches them (affinity). */
  workspaces: { dir: string; taskQueue: string };
  /** How long a shutting-down worker gives running commands (shown when it kills one). */
  shutdownGraceSeconds: number;
  /** The most output one run of a script keeps in its log. */
  logLimitBytes?: number;
  /** Where logs and annotations go (PostgreSQL or the data directory). */
  store: PasoStore;
  /** The secrets configured on this worker. */
  secrets: Secrets;
}

export async function runCommand(deps: CommandDeps, input: RunCommandInput): Promise<CommandOutcome> {
  const outcome = await runInWorkspace(deps, {
    executionId: input.executionId,
    run: input.run,
    variables: input.variables,
    env: { PASO_STAGE: input.stage, PASO_ACTION: input.action, ...lockTokenEnv(input.lockTokens) },
    pipeline: input.pipeline,
    logKey: actionLogKey(input.executionId, input.stage, input.action),
    timeoutSeconds: input.timeoutSeconds,
    where: { stage: input.stage, action: input.action },
    secrets: input.secrets,
  });
  return input.handOff && (await handOn(deps, input.handOff)) ? { ...outcome, handedOff: true } : outcome;
}

/**
 * Sends the coordinator the stage's hand-off (the signal the workflow would send after this activity's end,
 * one workflow task sooner); false when it could not, and the workflow sends it.
 */
async function handOn(deps: CommandDeps, handOff: HandOff): Promise<boolean> {
  const coordinator = deps.client.workflow.getHandle(handOff.coordinator);
  try {
    await deps.client.withDeadline(Date.now() + HAND_OFF_DEADLINE_MS, () =>
      handOff.signal === 'requestStage'
        ? coordinator.signal(requestStageSignal, handOff.payload)
        : coordinator.signal(leaveStageSignal, handOff.payload),
    );
    return true;
  } catch (err) {
    Context.current().log.warn(`the stage's hand-off to ${handOff.coordinator} failed; the workflow sends it`, {
      error: String(err),
    });
    return false;
  }
}

function lockTokenEnv(tokens: Record<string, number> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tokens ?? {}).map(([name, token]) => [lockTokenVariable(name), String(token)]),
  );
}

type WorkspaceRun = Parameters<typeof runUnmeasured>[1];

/**
 * Runs a script in the execution's workspace as the current activity: heartbeats, killed with its process
 * group on cancellation or timeout. A failure is a non-retryable ApplicationFailure carrying the outcome.
 * Measured: `paso_command_duration_seconds` by pipeline, stage, kind and result.
 */
export async function runInWorkspace(deps: CommandDeps, input: WorkspaceRun): Promise<CommandOutcome> {
  const started = performance.now();
  const where = input.where;
  const labels =
    'talkback' in where
      ? { pipeline: input.pipeline, stage: '', kind: 'talkback' }
      : {
          pipeline: input.pipeline,
          stage: where.stage,
          kind: where.action.endsWith('.rollback') ? 'rollback' : 'action',
        };
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const outcome = await runUnmeasured(deps, input);
    commandDuration.observe({ ...labels, result: 'succeeded' }, seconds());
    return outcome;
  } catch (err) {
    commandDuration.observe({ ...labels, result: commandResult(err) }, seconds());
    throw err;
  }
}

/** The `result` label of a command that did not succeed, from what it threw. */
export function commandResult(err: unknown): string {
  if (err instanceof ApplicationFailure) {
    if (err.type === ErrorTypes.CommandTimedOut) return 'timed_out';
    if (err.type === ErrorTypes.WorkerLost) return 'worker_lost';
    if (err.type === ErrorTypes.CommandFailed)
      return err.message.endsWith('the command did not run') ? 'refused' : 'failed';
    return 'error';
  }
  return 'abandoned';
}

async function runUnmeasured(
  deps: CommandDeps,
  input: {
    executionId: string;
    pipeline: string;
    run: string;
    variables: Record<string, string>;
    env: Record<string, string>;
    logKey: string;
    timeoutSeconds: number;
    /** What runs, for people reading the heartbeat (the gateway shows where each action runs). */
    where: { stage: string; action: string } | { talkback: string };
    secrets?: readonly string[] | undefined;
  },
): Promise<CommandOutcome> {
  const ctx = Context.current();
  const secrets = await resolveSecrets(deps, input.secrets, input.pipeline);
  const cwd = path.join(deps.workspaces.dir, input.executionId);
  const lease = holdLease({
    client: deps.client,
    namespace: deps.namespace,
    taskToken: ctx.info.taskToken,
    identity: deps.identity,
    heartbeatTimeoutMs: ctx.info.heartbeatTimeoutMs ?? 60_000,
    details: { worker: deps.identity, ...input.where },
  });
  const file = logPath(deps.dataDir, input.logKey);
  const shipper = await shipLog(deps.store.logs, input.logKey, file, (line) => {
    ctx.log.warn(line);
  });
  const result = await runScript({
    script: input.run,
    variables: input.variables,
    secrets,
    env: {
      ...input.env,
      PASO_PIPELINE: input.pipeline,
      PASO_EXECUTION_ID: input.executionId,
      PASO_WORKSPACE: cwd,
    },
    cwd,
    logPath: file,
    label: `attempt ${ctx.info.attempt}`,
    timeoutSeconds: input.timeoutSeconds,
    killGraceMs: deps.killGraceMs,
    logLimitBytes: deps.logLimitBytes,
    signal: AbortSignal.any([ctx.cancellationSignal, lease.lost]),
    onTick: () => ctx.heartbeat({ worker: deps.identity, ...input.where }),
    tickMs: deps.heartbeatMs,
  }).finally(() => lease.release());
  await shipper.finish();
  const outcome: CommandOutcome = {
    exitCode: result.exitCode,
    startedAt: result.startedAt,
    endedAt: result.endedAt,
    outputTail: result.outputTail,
    worker: deps.identity,
    // A workspace the script left empty is the same on every worker: it binds the execution to none, and its
    // next script runs on any worker (the one that schedules it, without a round trip through Temporal's
    // matching), until one leaves files behind.
    ...((await holdsFiles(cwd)) ? { workspace: deps.workspaces.taskQueue } : {}),
  };
  const lost = workerLost(deps, ctx, lease.lost);
  if (result.killedFor === 'abort' && lost) {
    throw ApplicationFailure.create({
      message: `worker lost: ${lost}; the command was killed`,
      type: ErrorTypes.WorkerLost,
      details: [outcome],
    });
  }
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

/** Whether a directory has an entry (reading one, however many it holds); when it cannot tell, true. */
export async function holdsFiles(dir: string): Promise<boolean> {
  let entries: Dir;
  try {
    entries = await opendir(dir);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  try {
    return (await entries.read()) !== null;
  } catch {
    return true;
  } finally {
    await entries.close();
  }
}

/**
 * The values of the secrets a script asks for, read on this worker now. One that cannot be given fails the
 * script before it starts, with an error naming the secret (never a value); running it again will not help
 * until the worker's configuration changes, so Temporal does not retry it.
 */
export async function resolveSecrets(
  deps: Pick<CommandDeps, 'secrets' | 'identity'>,
  names: readonly string[] | undefined,
  pipeline: string,
): Promise<Record<string, string>> {
  try {
    const values = await deps.secrets.resolve(names, pipeline);
    neverLog(Object.values(values));
    return values;
  } catch (err) {
    if (!(err instanceof SecretUnavailable)) throw err;
    throw ApplicationFailure.create({
      message: `${err.message} (${deps.identity}); the command did not run`,
      type: ErrorTypes.CommandFailed,
      nonRetryable: true,
    });
  }
}

/**
 * Why this worker gave up the command, if it was the worker's doing rather than a person's: the lease was
 * lost (fencing), Temporal no longer knows the attempt, or the worker is shutting down past its grace period.
 */
function workerLost(deps: CommandDeps, ctx: Context, lease: AbortSignal): string | null {
  if (lease.aborted) return `${deps.identity}: ${String(lease.reason)}`;
  const reason = (ctx.cancellationSignal.reason as Error | undefined)?.message;
  if (reason === 'WORKER_SHUTDOWN') {
    return `${deps.identity} shut down before the command ended (grace period ${deps.shutdownGraceSeconds}s)`;
  }
  if (reason === 'NOT_FOUND' || reason === 'TIMED_OUT') {
    return `${deps.identity}: Temporal no longer knows this attempt (${reason})`;
  }
  return null;
}
