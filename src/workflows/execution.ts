/**
 * The execution workflow: one per run of a pipeline. It walks the stages in order and, within a stage, the
 * `runOrder` groups in order, the actions of a group in parallel (see `actions.ts`). Before each stage a
 * locked (non-PARALLEL) execution asks its coordinator for the stage's lock, and gives it back after.
 *
 * People act on it through Updates, validated before anything changes: `stop` (wait, or abandon: the
 * stage's cancellation scope is cancelled, so running commands are killed) and `retry` of the failed or
 * stopped stage. A failed or stopped execution waits for a retry, hibernating on a durable timer, for the
 * pipeline's retry window; then its workflow ends. The view users read is kept in {@link ExecutionState}.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { endText, waitingText } from '../shared/chat-text.js';
import type { Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { ExecutionStatus, ExecutionView } from '../shared/execution-view.js';
import type { RetryInput, StopInput } from '../shared/messages.js';
import {
  executionQuery,
  leaveStageSignal,
  overtakenSignal,
  requestStageSignal,
  retryUpdate,
  stageGrantedSignal,
  stageWaitSignal,
  stopUpdate,
  supersededSignal,
  withdrawSignal,
} from '../shared/messages.js';
import { coordinatorWorkflowId, PasoPipeline, PasoStage, PasoStatus } from '../shared/temporal.js';
import type { Activities } from '../activities/index.js';
import type { ActionContext } from './actions.js';
import { ignoresErrors, runAction } from './actions.js';
import { ExecutionChat } from './chat.js';
import { handleDecisions } from './decisions.js';
import { ExecutionState, runOrderGroups } from './execution-state.js';
import { ManualWaits } from './manual-steps.js';
import { rollBack } from './rollback.js';
import { validateRetry, validateStop } from './stop-retry.js';

const { notify } = proxyActivities<Activities>({
  summary: 'notification hook',
  startToCloseTimeout: '30s',
  cancellationType: 'TRY_CANCEL',
  retry: { maximumAttempts: 20, maximumInterval: '1m', nonRetryableErrorTypes: ['NotificationRefused'] },
});

/** Where a run of the stages starts: the first stage, or the retried one (and which of its actions). */
interface Plan {
  from: number;
  only?: Set<string>;
}

/** How a run of the stages ended; `retryStage` is set when that stage may be retried. */
interface End {
  status: Extract<ExecutionStatus, 'Succeeded' | 'Failed' | 'Stopped' | 'Superseded'>;
  error?: string;
  retryStage?: string;
}

export async function execution(input: ExecutionInput): Promise<ExecutionView> {
  const now = () => new Date().toISOString();
  const state = new ExecutionState(input, now());
  const stages = input.definition.stages;
  const coordinator = getExternalWorkflowHandle(coordinatorWorkflowId(input.pipeline));
  // PARALLEL executions are independent: no locks, no queues, so they never ask the coordinator.
  const locked = input.definition.executionMode !== 'PARALLEL';
  let granted: string | null = null;
  let superseded = false;
  let stageScope: CancellationScope | null = null;
  let retryRequest: RetryInput | null = null;
  const overtaken = new Map<string, string>();
  const chat = new ExecutionChat(input, state, now);
  const manual = new ManualWaits(input.trigger.by, (stage, action) => state.knowsAction(stage, action));
  let rejected = false;
  // Notifications go out in the background; the workflow waits for them only before it ends.
  const notifications: Promise<unknown>[] = [];
  const ctx: ActionContext = {
    input,
    state,
    now,
    manual,
    abandoning: () => state.stopRequest?.abandon === true,
    rejected: () => void (rejected = true),
    notify: (event) => {
      chat.post(() => waitingText(state.view(), event.stage, event.action, input.reviewUrl ?? null));
      if (!input.notificationUrl) return;
      const body = {
        ...event,
        pipeline: input.pipeline,
        execution: input.executionId,
        reviewUrl: input.reviewUrl ?? null,
      };
      notifications.push(notify({ hookUrl: input.notificationUrl, body }).catch(() => undefined));
    },
  };

  const publish = () =>
    upsertSearchAttributes([
      { key: PasoPipeline, value: input.pipeline },
      { key: PasoStatus, value: state.status },
      { key: PasoStage, value: state.currentStage },
    ]);

  setHandler(executionQuery, () => state.view());
  handleDecisions(state, manual, now);
  setHandler(stageGrantedSignal, ({ stage }) => void (granted = stage));
  setHandler(stageWaitSignal, ({ stage, for: reason }) => {
    if (granted !== stage) state.inbound(stage, reason);
  });
  setHandler(supersededSignal, () => void (superseded = true));
  setHandler(overtakenSignal, ({ stage, by }) => {
    overtaken.set(stage, by);
    if (state.retryableStage === stage) {
      state.notRetryable(by);
      publish();
    }
  });
  setHandler(
    stopUpdate,
    ({ abandon, reason, by }) => {
      state.stopping({ by, abandon, reason: reason ?? null, at: now() });
      publish();
      if (abandon) stageScope?.cancel();
      return state.view();
    },
    { validator: (request: StopInput) => validateStop(state, request) },
  );
  setHandler(
    retryUpdate,
    (request) => {
      retryRequest = request;
      return state.view();
    },
    { validator: (request: RetryInput) => validateRetry(state, request) },
  );

  publish();
  try {
    let plan: Plan = { from: 0 };
    for (;;) {
      rejected = false;
      const end = await runStages(plan);
      if (end.status === 'Failed' && !rejected && input.definition.rollbackOnFailure) {
        setCurrentDetails('Rolling back');
        await rollBack(input, state, now);
      }
      state.finish(end.status, now(), end.error ?? null);
      setCurrentDetails(end.error ? `${end.status}: ${end.error}` : end.status);
      publish();
      const retryable = end.retryStage ? offerRetry(end.retryStage) : false;
      chat.post(() => endText(state.view(), input.reviewUrl ?? null));
      const retry = retryable ? await awaitRetry() : null;
      if (!retry) break;
      const only = retry.mode === 'FAILED_ACTIONS' ? new Set(state.unfinishedActions(retry.stage)) : undefined;
      plan = { from: stages.findIndex((s) => s.name === retry.stage), only };
      state.resume();
      publish();
    }
  } catch (err) {
    // Cancelled from the Temporal UI or CLI: give back the lock at once rather than wait for the watcher.
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        if (locked) await coordinator.signal(withdrawSignal, { executionId: input.executionId });
        state.abandonRunning(now());
        state.finish('Cancelled', now(), 'cancelled from Temporal');
        publish();
        chat.post(() => endText(state.view(), input.reviewUrl ?? null));
        await chat.close();
      });
    }
    throw err;
  }

  await Promise.all(notifications);
  await chat.close();
  await condition(allHandlersFinished);
  return state.view();

  async function runStages(plan: Plan): Promise<End> {
    for (let i = plan.from; i < stages.length; i++) {
      const stage = stages[i]!;
      // A stop between stages leaves nothing to retry: no stage failed or was cut short.
      if (state.stopRequest) return { status: 'Stopped' };
      if (locked) {
        const entry = await enterStage(stage.name);
        if (entry !== 'granted') return { status: entry };
      }
      state.stageStarted(stage.name, now());
      publish();
      const result = await runStage(stage, i === plan.from ? plan.only : undefined);
      state.stageEnded(stage.name, result.status, now());
      if (locked) {
        await coordinator.signal(leaveStageSignal, {
          executionId: input.executionId,
          stage: stage.name,
          outcome: result.status,
        });
      }
      if (result.status !== 'Succeeded') return { ...result, retryStage: stage.name };
    }
    return { status: 'Succeeded' };
  }

  /**
   * Asks the coordinator for the stage's lock and waits, inbound, for it. A stop while waiting takes the
   * execution off the waiting list at once (and gives back a lock granted meanwhile).
   */
  async function enterStage(stage: string): Promise<'granted' | 'Superseded' | 'Stopped'> {
    granted = null;
    await coordinator.signal(requestStageSignal, { executionId: input.executionId, stage });
    await condition(() => granted === stage || superseded || state.stopRequest !== null);
    if (superseded) return 'Superseded';
    if (state.stopRequest) {
      await coordinator.signal(withdrawSignal, { executionId: input.executionId });
      return 'Stopped';
    }
    return 'granted';
  }

  /** Runs a stage's groups in order (only the `only` actions, on a retry of failed actions). */
  async function runStage(
    stage: Stage,
    only: Set<string> | undefined,
  ): Promise<{ status: 'Succeeded' | 'Failed' | 'Stopped'; error?: string }> {
    const scope = new CancellationScope();
    stageScope = scope;
    try {
      return await scope.run(async () => {
        for (const group of runOrderGroups(stage.actions)) {
          const actions = only ? group.filter((a) => only.has(a.name)) : group;
          // Stop and wait: what runs finishes, nothing further starts.
          if (state.stopRequest) break;
          if (actions.length === 0) continue;
          setCurrentDetails(`Stage ${stage.name}: ${actions.map((a) => a.name).join(', ')}`);
          // Every action of a group runs to its end, even when a sibling fails (as in CodePipeline).
          const results = await Promise.all(
            actions.map(async (action) => ({ action, error: await runAction(ctx, stage, action) })),
          );
          if (state.stopRequest) break;
          const fatal = results.filter(({ action, error }) => error && !ignoresErrors(action));
          if (fatal.length > 0) {
            return {
              status: 'Failed' as const,
              error: fatal.map(({ action, error }) => `${stage.name}/${action.name}: ${error}`).join('; '),
            };
          }
        }
        return { status: state.stopRequest ? ('Stopped' as const) : ('Succeeded' as const) };
      });
    } finally {
      stageScope = null;
    }
  }

  /** Whether `stage` may be retried now (not once a newer execution overtook it); shown on the view. */
  function offerRetry(stage: string): boolean {
    const by = overtaken.get(stage);
    if (by) {
      state.notRetryable(by);
      publish();
      return false;
    }
    const windowSeconds = input.definition.retryWindowSeconds;
    state.retryable(stage, new Date(Date.now() + windowSeconds * 1000).toISOString());
    publish();
    retryRequest = null;
    return true;
  }

  /** Hibernates until a retry is asked for, a newer execution overtakes it, or the retry window closes. */
  async function awaitRetry(): Promise<RetryInput | null> {
    const windowSeconds = input.definition.retryWindowSeconds;
    await condition(() => retryRequest !== null || state.retryableStage === null, `${windowSeconds}s`);
    if (retryRequest === null || state.retryableStage === null) {
      state.notRetryable();
      publish();
      return null;
    }
    return retryRequest;
  }
}
