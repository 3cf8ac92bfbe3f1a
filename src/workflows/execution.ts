/**
 * The execution workflow: one per run of a pipeline. It walks the stages in order and, within a stage, the
 * `runOrder` groups in order, the actions of a group in parallel. A command is an activity; a wait is a
 * durable timer. The workflow keeps the user-facing view in {@link ExecutionState} and answers queries
 * from it; search attributes follow its status and stage.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { Action, CommandAction, Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { ExecutionView } from '../shared/execution-view.js';
import {
  ErrorTypes,
  executionQuery,
  leaveStageSignal,
  requestStageSignal,
  stageGrantedSignal,
  stageWaitSignal,
  supersededSignal,
  withdrawSignal,
} from '../shared/messages.js';
import { coordinatorWorkflowId, PasoPipeline, PasoStage, PasoStatus } from '../shared/temporal.js';
import type { CommandOutcome } from './execution-state.js';
import { ExecutionState, runOrderGroups } from './execution-state.js';

/** Time a worker has beyond the action's own timeout to report back before Temporal gives up on it. */
const ACTIVITY_SLACK_SECONDS = 60;

export async function execution(input: ExecutionInput): Promise<ExecutionView> {
  const now = () => new Date().toISOString();
  const state = new ExecutionState(input, now());
  const coordinator = getExternalWorkflowHandle(coordinatorWorkflowId(input.pipeline));
  // PARALLEL executions are independent: no locks, no queues, so they never ask the coordinator.
  const locked = input.definition.executionMode !== 'PARALLEL';
  let granted: string | null = null;
  let superseded = false;

  setHandler(executionQuery, () => state.view());
  setHandler(stageGrantedSignal, ({ stage }) => void (granted = stage));
  setHandler(stageWaitSignal, ({ stage, for: reason }) => {
    if (granted !== stage) state.inbound(stage, reason);
  });
  setHandler(supersededSignal, () => void (superseded = true));

  const publish = () => {
    upsertSearchAttributes([
      { key: PasoPipeline, value: input.pipeline },
      { key: PasoStatus, value: state.status },
      { key: PasoStage, value: state.currentStage },
    ]);
  };
  publish();

  try {
    await runStages();
  } catch (err) {
    // Cancelled from the Temporal UI or CLI: give back the lock at once rather than wait for the watcher.
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        if (locked) await coordinator.signal(withdrawSignal, { executionId: input.executionId });
        state.abandonRunning(now());
        state.finish('Cancelled', now(), 'cancelled from Temporal');
        publish();
      });
    }
    throw err;
  }

  await condition(allHandlersFinished);
  return state.view();

  async function runStages(): Promise<void> {
    let failure: string | null = null;
    for (const stage of input.definition.stages) {
      if (locked && !(await enterStage(stage.name))) break;
      state.stageStarted(stage.name, now());
      publish();
      failure = await runStage(stage);
      state.stageEnded(stage.name, failure ? 'Failed' : 'Succeeded', now());
      if (locked) {
        const outcome = failure ? 'Failed' : 'Succeeded';
        await coordinator.signal(leaveStageSignal, { executionId: input.executionId, stage: stage.name, outcome });
      }
      if (failure) break;
    }
    if (superseded) {
      state.finish('Superseded', now());
      setCurrentDetails('Superseded by a newer execution');
    } else {
      state.finish(failure ? 'Failed' : 'Succeeded', now(), failure);
      setCurrentDetails(failure ? `Failed: ${failure}` : 'Succeeded');
    }
    publish();
  }

  /** Asks the coordinator for the stage's lock and waits for it; false when a newer execution superseded this one. */
  async function enterStage(stage: string): Promise<boolean> {
    granted = null;
    await coordinator.signal(requestStageSignal, { executionId: input.executionId, stage });
    await condition(() => granted === stage || superseded);
    return !superseded;
  }

  /** Runs a stage's groups in order; returns why the stage failed, or null when it succeeded. */
  async function runStage(stage: Stage): Promise<string | null> {
    for (const group of runOrderGroups(stage.actions)) {
      setCurrentDetails(`Stage ${stage.name}: ${group.map((a) => a.name).join(', ')}`);
      // Every action of a group runs to its end, even when a sibling fails (as in CodePipeline).
      const results = await Promise.all(
        group.map(async (action) => ({ action, error: await runAction(stage, action) })),
      );
      const fatal = results.filter(({ action, error }) => error && !ignoresErrors(action));
      if (fatal.length > 0)
        return fatal.map(({ action, error }) => `${stage.name}/${action.name}: ${error}`).join('; ');
    }
    return null;
  }

  /** Runs one action to its end; returns its error, or null when it succeeded. */
  async function runAction(stage: Stage, action: Action): Promise<string | null> {
    state.actionStarted(stage.name, action.name, now());
    let error: string | null = null;
    switch (action.type) {
      case 'command':
        error = await runCommandAction(stage, action);
        break;
      case 'wait':
        await sleep(action.seconds * 1000, { summary: `${stage.name}/${action.name}: wait ${action.seconds}s` });
        break;
      default:
        // Approvals and pauses come with Paso's manual steps; until then they fail loudly, never pass.
        error = `"${action.type}" actions are not supported by this version of Paso`;
    }
    state.actionEnded(stage.name, action.name, error ? 'Failed' : 'Succeeded', now(), error);
    return error;
  }

  async function runCommandAction(stage: Stage, action: CommandAction): Promise<string | null> {
    const { runCommand } = proxyActivities<Activities>({
      summary: `${stage.name}/${action.name}`,
      startToCloseTimeout: `${action.timeoutSeconds + ACTIVITY_SLACK_SECONDS}s`,
      heartbeatTimeout: '15s',
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
}

function ignoresErrors(action: Action): boolean {
  return action.type === 'command' && action.onError === 'ignore';
}
