/**
 * Where an execution's scripts run, and what a lost worker means for them.
 *
 * - **Workspace affinity.** The first script runs on any worker; its outcome names the task queue of that
 *   worker's workspaces, and every later script of the execution (commands, rollbacks, Talkback) goes there,
 *   so it finds the files the earlier ones wrote. If no worker takes it there within
 *   {@link WORKSPACE_PICKUP_SECONDS}, that worker is gone: the script runs on any worker, in a fresh workspace,
 *   and the execution shows the move.
 * - **A lost worker** (Temporal's heartbeat timeout, or a worker that killed its command because it lost its
 *   lease or shut down) is the action's `onWorkerLoss`: `fail` (the action fails with "worker lost") or
 *   `rerun` (it runs again, at most {@link MAX_RERUNS} times, on a live worker). Temporal itself never retries
 *   a command: the heartbeat timeout has passed only once the worker's fence has killed the old attempt, so a
 *   rerun never overlaps it.
 *
 * The state is per execution (workflow module state is isolated per workflow), set up by {@link placeScripts}
 * at the start of the execution; histories from before this module keep the old path (`patched`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ExecutionInput } from '../shared/execution.js';
import { ErrorTypes } from '../shared/messages.js';
import type { CommandOutcome } from './execution-state.js';
import { PATCHES } from './patches.js';

/** Time a worker has beyond the script's own timeout to report back before Temporal gives up on it. */
const ACTIVITY_SLACK_SECONDS = 60;
/** How long a script waits for the worker holding the execution's workspace before it moves on. */
export const WORKSPACE_PICKUP_SECONDS = 10;
/** How many times `onWorkerLoss: rerun` runs a command again. */
export const MAX_RERUNS = 2;
/** Histories before 0.3 had no heartbeat timeout in their input. */
const LEGACY_HEARTBEAT_TIMEOUT_SECONDS = 15;

export interface Workspace {
  /** The worker that made it, `<pid>@<host>`. */
  worker: string;
  taskQueue: string;
  since: string;
  /** Why the execution moved to it, when it replaced another. */
  note: string | null;
}

export interface WorkerLoss {
  at: string;
  worker: string | null;
  error: string;
  /** The command runs again (`onWorkerLoss: rerun`). */
  rerun: boolean;
}

interface Placement {
  /** False while replaying an execution that started before worker-loss handling. */
  enabled: boolean;
  heartbeatTimeoutSeconds: number;
  workspace: Workspace | null;
  /** Why the execution's workspace was given up, until the next script makes a fresh one. */
  givenUp: string | null;
  /** Told when the execution's workspace changes (the execution view shows it). */
  moved: (workspace: Workspace) => void;
}

let placement: Placement = {
  enabled: false,
  heartbeatTimeoutSeconds: LEGACY_HEARTBEAT_TIMEOUT_SECONDS,
  workspace: null,
  givenUp: null,
  moved: () => undefined,
};

/** Called once, first thing in the execution workflow. */
export function placeScripts(
  input: ExecutionInput,
  moved: (workspace: Workspace) => void,
  applies: (patch: string) => boolean,
): void {
  placement = {
    enabled: applies(PATCHES.workerLoss),
    heartbeatTimeoutSeconds: input.heartbeatTimeoutSeconds ?? LEGACY_HEARTBEAT_TIMEOUT_SECONDS,
    workspace: null,
    givenUp: null,
    moved,
  };
}

export interface ScriptOptions {
  timeoutSeconds: number;
  /** Shown in the Temporal UI. */
  summary: string;
  onWorkerLoss?: 'fail' | 'rerun';
  /** Told of each lost worker, before the script runs again or fails. */
  lost?: (loss: WorkerLoss) => void;
  now: () => string;
}

export interface ScriptEnd {
  outcome: CommandOutcome | null;
  error: string | null;
}

/**
 * Runs a script activity (`runCommand`, `runTalkback`): its outcome when it ran, and its error, or null when
 * it succeeded. A cancellation (stop and abandon) is passed on, not turned into an error.
 */
export async function runScriptActivity(
  options: ScriptOptions,
  call: (activities: Activities) => Promise<CommandOutcome>,
): Promise<ScriptEnd> {
  if (!placement.enabled) return legacyRun(options, call);
  let reruns = 0;
  for (;;) {
    const target = placement.workspace;
    const activities = proxyActivities<Activities>({
      summary: options.summary,
      ...(target ? { taskQueue: target.taskQueue, scheduleToStartTimeout: `${WORKSPACE_PICKUP_SECONDS}s` } : {}),
      startToCloseTimeout: `${options.timeoutSeconds + ACTIVITY_SLACK_SECONDS}s`,
      heartbeatTimeout: `${placement.heartbeatTimeoutSeconds}s`,
      // Abandoning waits until the command's process group is really gone.
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      // Temporal never runs a command again by itself: a failure is a person's decision, a lost worker the
      // action's (below).
      retry: { maximumAttempts: 1 },
    });
    try {
      const outcome = await call(activities);
      ranOn(outcome, options.now());
      return { outcome, error: null };
    } catch (err) {
      if (isCancellation(err)) throw err;
      const cause = err instanceof ActivityFailure ? err.cause : undefined;
      if (target && cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
        // It never started: the workspace's worker is gone. Any worker takes it, in a fresh workspace.
        giveUp(`no worker took it at the workspace on ${target.worker} within ${WORKSPACE_PICKUP_SECONDS}s`);
        continue;
      }
      const loss = lostWorker(err, cause, placement.heartbeatTimeoutSeconds);
      if (loss) {
        if (placement.workspace) giveUp(`${loss.worker ?? 'the worker'} holding the workspace was lost`);
        const rerun = options.onWorkerLoss === 'rerun' && reruns < MAX_RERUNS;
        options.lost?.({ at: options.now(), worker: loss.worker, error: loss.error, rerun });
        if (rerun) {
          reruns += 1;
          continue;
        }
        const outcome = cause instanceof ApplicationFailure ? outcomeOf(cause) : null;
        return { outcome, error: loss.error };
      }
      if (cause instanceof ApplicationFailure) {
        const outcome = outcomeOf(cause);
        if (outcome) ranOn(outcome, options.now());
        return { outcome, error: cause.message };
      }
      return { outcome: null, error: cause?.message ?? (err instanceof Error ? err.message : String(err)) };
    }
  }
}

function giveUp(why: string): void {
  placement.workspace = null;
  placement.givenUp = why;
}

/** The worker that ran a script holds the execution's workspace from now on, if nobody did. */
function ranOn(outcome: CommandOutcome, at: string): void {
  if (placement.workspace || !outcome.workspace || !outcome.worker) return;
  placement.workspace = { worker: outcome.worker, taskQueue: outcome.workspace, since: at, note: placement.givenUp };
  placement.givenUp = null;
  placement.moved(placement.workspace);
}

function outcomeOf(failure: ApplicationFailure): CommandOutcome | null {
  return (failure.details?.[0] as CommandOutcome | undefined) ?? null;
}

/** A lost worker, described for people; null when the script failed for another reason. */
function lostWorker(
  err: unknown,
  cause: Error | undefined,
  heartbeatTimeoutSeconds: number,
): { worker: string | null; error: string } | null {
  // Temporal names the last worker only once the attempt has reported; a timed-out one is known from its
  // heartbeats, which carry the worker's identity.
  const heartbeat =
    cause instanceof TimeoutFailure ? (cause.lastHeartbeatDetails as { worker?: unknown } | null) : null;
  const reported = err instanceof ActivityFailure && err.identity ? err.identity : null;
  const worker = reported ?? (typeof heartbeat?.worker === 'string' ? heartbeat.worker : null);
  if (cause instanceof ApplicationFailure && cause.type === ErrorTypes.WorkerLost) {
    return { worker: outcomeOf(cause)?.worker ?? worker, error: cause.message };
  }
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'HEARTBEAT') {
    const who = worker ?? 'its worker';
    return { worker, error: `worker lost: no heartbeat from ${who} for ${heartbeatTimeoutSeconds}s` };
  }
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'START_TO_CLOSE') {
    return { worker, error: `worker lost: ${worker ?? 'its worker'} never reported the end of the command` };
  }
  return null;
}

/** The path of executions started before 0.3, kept so that they replay as they ran. */
async function legacyRun(
  options: ScriptOptions,
  call: (activities: Activities) => Promise<CommandOutcome>,
): Promise<ScriptEnd> {
  const activities = proxyActivities<Activities>({
    summary: options.summary,
    startToCloseTimeout: `${options.timeoutSeconds + ACTIVITY_SLACK_SECONDS}s`,
    heartbeatTimeout: `${LEGACY_HEARTBEAT_TIMEOUT_SECONDS}s`,
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    retry: {
      maximumAttempts: 3,
      initialInterval: '1s',
      nonRetryableErrorTypes: [ErrorTypes.CommandFailed, ErrorTypes.CommandTimedOut],
    },
  });
  try {
    return { outcome: await call(activities), error: null };
  } catch (err) {
    if (isCancellation(err)) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure) return { outcome: outcomeOf(cause), error: cause.message };
    return { outcome: null, error: cause?.message ?? (err instanceof Error ? err.message : String(err)) };
  }
}
