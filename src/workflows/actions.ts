/**
 * Running one action of an execution: a command is an activity, a wait a durable timer. Called inside the
 * stage's cancellation scope, so a stop-and-abandon cancels whatever runs here.
 */
import { condition, isCancellation, sleep } from '@temporalio/workflow';
import type { RunCommandInput } from '../activities/index.js';
import type { NotifyEvent } from '../activities/notify.js';
import type { Action, ApprovalAction, CommandAction, PauseAction, Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { ExecutionState } from './execution-state.js';
import type { HandOffs } from './hand-off.js';
import type { ManualWaits } from './manual-steps.js';
import { PATCHES } from './patches.js';
import type { ScriptEnd, ScriptOptions } from './placement.js';
import { runScriptActivity } from './placement.js';

export interface ActionContext {
  input: ExecutionInput;
  state: ExecutionState;
  now: () => string;
  /** Whether a cancellation now is a stop-and-abandon (else the workflow itself is being cancelled). */
  abandoning: () => boolean;
  manual: ManualWaits;
  /** Announces a manual step (approval requested, trap fired) to the notification hook, without waiting. */
  notify: (event: Omit<NotifyEvent, 'execution' | 'pipeline' | 'reviewUrl'>) => void;
  /** An approval was rejected: the execution fails, but does not roll back (Clarive). */
  rejected: () => void;
  /** The fencing tokens of the named locks the execution holds now, by lock name (none: empty). */
  lockTokens: () => Record<string, number>;
  /** Whether the change behind a patch id applies to this execution (see PATCHES.execution07). */
  applies: (patch: string) => boolean;
  /** The hand-off armed for the stage's last command, if any (see hand-off.ts). */
  handOffs: HandOffs;
}

/**
 * Runs one action to its end and records it; returns its error, or null when it succeeded, was skipped or
 * was abandoned. A command with `onError: trap` that fails waits for a person: retry (run it again), skip
 * (mark it Skipped, go on) or abort (fail); `trapTimeoutSeconds` aborts.
 */
export async function runAction(ctx: ActionContext, stage: Stage, action: Action): Promise<string | null> {
  const { state, now } = ctx;
  try {
    for (;;) {
      state.actionStarted(stage.name, action.name, now());
      const error = await perform(ctx, stage, action);
      if (!error || action.type !== 'command' || action.onError !== 'trap') {
        state.actionEnded(stage.name, action.name, error ? 'Failed' : 'Succeeded', now(), error);
        return error;
      }
      const decision = await trap(ctx, stage, action, error);
      // Stop and wait: no action starts again, so a retry decided meanwhile (by signal) ends it as failed.
      const stopped = decision === 'retry' && state.stopRequest !== null && ctx.applies(PATCHES.noRetryWhileStopping);
      if (decision === 'retry' && !stopped) continue;
      if (stopped) {
        const notRetried = `${error} (not retried: the execution is stopping)`;
        state.actionEnded(stage.name, action.name, 'Failed', now(), notRetried);
        return notRetried;
      }
      if (decision === 'skip') {
        state.actionEnded(stage.name, action.name, 'Skipped', now(), error);
        return null;
      }
      const aborted = decision === 'timeout' ? `${error} (trap timed out: aborted)` : `${error} (aborted)`;
      state.actionEnded(stage.name, action.name, 'Failed', now(), aborted);
      return aborted;
    }
  } catch (err) {
    if (!isCancellation(err) || !ctx.abandoning()) throw err;
    ctx.manual.close(stage.name, action.name);
    state.actionEnded(stage.name, action.name, 'Abandoned', now(), 'abandoned by a stop');
    return null;
  }
}

/** A trapped failure: the action stays InProgress, waiting for a person's decision. */
async function trap(
  ctx: ActionContext,
  stage: Stage,
  action: CommandAction,
  error: string,
): Promise<'retry' | 'skip' | 'abort' | 'timeout'> {
  const { state, manual } = ctx;
  const expiresAt = new Date(Date.now() + action.trapTimeoutSeconds * 1000).toISOString();
  manual.open(stage.name, action.name, 'trap');
  state.trapped(stage.name, action.name, error, expiresAt);
  ctx.notify({ event: 'trap', stage: stage.name, action: action.name, message: error, url: null, expiresAt });
  const decided = await condition(
    () => manual.outcome(stage.name, action.name) !== null,
    `${action.trapTimeoutSeconds}s`,
  );
  const outcome = manual.outcome(stage.name, action.name);
  manual.close(stage.name, action.name);
  return decided && outcome?.kind === 'trap' ? outcome.decision : 'timeout';
}

/** An approval holds its stage until `required` allowed people approve, one rejects, or it times out. */
async function approval(ctx: ActionContext, stage: Stage, action: ApprovalAction): Promise<string | null> {
  const { state, manual } = ctx;
  const expiresAt = new Date(Date.now() + action.timeoutSeconds * 1000).toISOString();
  const request = { message: action.message ?? null, url: action.url ?? null, expiresAt };
  manual.open(stage.name, action.name, 'approval', action);
  state.waitingFor(stage.name, action.name, 'approval', request);
  ctx.notify({ event: 'approval-requested', stage: stage.name, action: action.name, ...request });
  const decided = await condition(() => manual.outcome(stage.name, action.name) !== null, `${action.timeoutSeconds}s`);
  const outcome = manual.outcome(stage.name, action.name);
  manual.close(stage.name, action.name);
  if (!decided || !outcome) return `no decision within ${action.timeoutSeconds}s: approval timed out`;
  if (outcome.kind === 'rejected') {
    ctx.rejected();
    return `rejected by ${outcome.by}`;
  }
  return null;
}

/** A pause rests until an operator (or one of its `allowed`) resumes it; its timeout fails it. */
async function pause(ctx: ActionContext, stage: Stage, action: PauseAction): Promise<string | null> {
  const { state, manual } = ctx;
  const expiresAt = new Date(Date.now() + action.timeoutSeconds * 1000).toISOString();
  manual.open(stage.name, action.name, 'resume', action);
  state.waitingFor(stage.name, action.name, 'resume', { message: action.message ?? null, url: null, expiresAt });
  ctx.notify({
    event: 'pause',
    stage: stage.name,
    action: action.name,
    message: action.message ?? null,
    url: null,
    expiresAt,
  });
  const resumed = await condition(() => manual.outcome(stage.name, action.name) !== null, `${action.timeoutSeconds}s`);
  manual.close(stage.name, action.name);
  return resumed ? null : `not resumed within ${action.timeoutSeconds}s: pause timed out`;
}

async function perform(ctx: ActionContext, stage: Stage, action: Action): Promise<string | null> {
  switch (action.type) {
    case 'command':
      return runCommandAction(ctx, stage, action);
    case 'wait':
      await sleep(action.seconds * 1000, { summary: `${stage.name}/${action.name}: wait ${action.seconds}s` });
      return null;
    case 'approval':
      return approval(ctx, stage, action);
    case 'pause':
      return pause(ctx, stage, action);
  }
}

async function runCommandAction(ctx: ActionContext, stage: Stage, action: CommandAction): Promise<string | null> {
  const { input, state, now } = ctx;
  const handOff = ctx.handOffs.for(stage.name, action.name);
  let lost = false;
  const { outcome, error } = await executeCommand(
    {
      executionId: input.executionId,
      pipeline: input.pipeline,
      stage: stage.name,
      action: action.name,
      run: action.run,
      variables: input.variables,
      timeoutSeconds: action.timeoutSeconds,
      ...(action.secrets?.length ? { secrets: action.secrets } : {}),
      ...withTokens(ctx.lockTokens()),
      ...(handOff ? { handOff } : {}),
    },
    {
      timeoutSeconds: action.timeoutSeconds,
      summary: `${stage.name}/${action.name}`,
      onWorkerLoss: action.onWorkerLoss ?? 'fail',
      lost: (loss) => {
        lost = true;
        state.workerLost(stage.name, action.name, loss);
      },
      now,
    },
  );
  if (outcome) state.commandOutcome(stage.name, action.name, outcome);
  // A worker lost may have sent it before it could report.
  if (handOff) ctx.handOffs.ended(stage.name, action.name, outcome?.handedOff ? 'sent' : lost ? 'unknown' : 'unsent');
  return error;
}

/** Runs a script as the `runCommand` activity (actions and rollbacks alike); see {@link runScriptActivity}. */
export function executeCommand(command: RunCommandInput, options: ScriptOptions): Promise<ScriptEnd> {
  return runScriptActivity(options, (activities) => activities.runCommand(command));
}

/** The `lockTokens` of a command's input, only when it holds named locks (older inputs stay as they were). */
export function withTokens(tokens: Record<string, number>): { lockTokens?: Record<string, number> } {
  return Object.keys(tokens).length > 0 ? { lockTokens: tokens } : {};
}

export function ignoresErrors(action: Action): boolean {
  return action.type === 'command' && action.onError === 'ignore';
}
