/**
 * One coordinator workflow per pipeline, its entity: it keeps the definition (versioned), hands out
 * execution ids, and owns the stage locks, inbound lists and transitions (decided by {@link LockTable}).
 * Executions ask by signal and are answered by signal; no call stays open. A watcher activity frees the
 * places of executions that ended without saying so (terminated, timed out, reset). The coordinator lives
 * as long as the pipeline (deleting only marks it) and continues-as-new when its history grows.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PipelineDefinition } from '../shared/definition.js';
import { parseExecutionId } from '../shared/execution.js';
import type { AllocateExecutionInput, PutDefinitionResult, SetTransitionInput } from '../shared/messages.js';
import {
  advanceExecutionsUpdate,
  allocateExecutionUpdate,
  allocateExecutionsUpdate,
  deletePipelineUpdate,
  ErrorTypes,
  executionForKeyQuery,
  leaveStageSignal,
  overtakenSignal,
  passWindowUpdate,
  pipelineQuery,
  pipelineStateQuery,
  putDefinitionUpdate,
  requestStageSignal,
  setConfigFreezesUpdate,
  setTransitionUpdate,
  stageGrantedSignal,
  stageWaitSignal,
  supersededSignal,
  watchedExecutionsQuery,
  withdrawSignal,
} from '../shared/messages.js';
import { executionWorkflowId, PasoPipeline, PasoStatus } from '../shared/temporal.js';
import type { CoordinatorData } from './coordinator-state.js';
import { CoordinatorState, IdempotencyConflict, RECENT_ALLOCATION_MS } from './coordinator-state.js';
import { setCheckedSignalHandler, setCheckedUpdateHandler } from './guard.js';
import type { Effect } from './lock-table.js';
import { RESERVATION_GRACE_MS } from './lock-table.js';
import { PATCHES } from './patches.js';
import { runUntilContinueAsNew, watchExecutions } from './watching.js';

export interface CoordinatorInput {
  /** The first definition, when the pipeline is created (after continue-as-new, it is in `restored`). */
  definition?: PipelineDefinition;
  by: string;
  /** The state carried over by continue-as-new. */
  restored?: CoordinatorData;
}

const { recoverPipeline } = proxyActivities<Activities>({
  summary: 'learn the pipeline and its running executions from Temporal',
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const { tellTransitionClosed } = proxyActivities<Activities>({
  summary: 'tell running PARALLEL executions that a transition is disabled',
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

const { syncSchedules } = proxyActivities<Activities>({
  summary: 'create, update or delete the pipeline schedules',
  startToCloseTimeout: '30s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 5 },
});

export async function coordinator(input: CoordinatorInput): Promise<void> {
  const now = () => new Date().toISOString();
  const state = input.restored
    ? CoordinatorState.restore(input.restored)
    : CoordinatorState.create(input.definition!, input.by, now());
  const name = state.snapshot().name;

  /** On a coordinator, PasoStatus says whether the pipeline exists: `Active` or `Deleted`. */
  const publish = () =>
    upsertSearchAttributes([
      { key: PasoPipeline, value: name },
      { key: PasoStatus, value: state.deleted ? 'Deleted' : 'Active' },
    ]);
  const refuseIfDeleted = () => {
    if (state.deleted) throw ApplicationFailure.nonRetryable('pipeline was deleted', ErrorTypes.PipelineDeleted);
  };

  // Outgoing signals are not awaited one by one (the coordinator must keep answering), but continue-as-new
  // waits for all of them. A signal that cannot be delivered means its execution is gone: free its places.
  let signalsInFlight = 0;
  /** The lock rules in force: those of the code that wrote the history being replayed, else the current. */
  const rules = () => void (state.locks.current = patched(PATCHES.lockRules));
  const dispatch = (effects: Effect[]): void => {
    for (const effect of effects) {
      signalsInFlight += 1;
      // Not cancellable: effects decided in the watcher's scope must outlive it (continue-as-new cancels the
      // watcher, and a cancelled grant taken for a gone execution would withdraw the whole queue, one by one).
      CancellationScope.nonCancellable(() => sendEffect(effect))
        .catch((err: unknown) => {
          // An overtaken execution may have ended long ago (its retry window closed): nothing to free then.
          if (isCancellation(err) || effect.type === 'overtake') return;
          dispatch(state.locks.withdraw(effect.executionId));
        })
        .finally(() => (signalsInFlight -= 1));
    }
  };

  // A coordinator started afresh (not continued-as-new) first learns from Temporal what a terminated run
  // left behind; until then, what changes its state waits (in order), so nothing is decided on a blank slate.
  // (Before any handler is set: Temporal delivers a buffered Update, such as the put that starts the
  // coordinator, as soon as its handler is.)
  let ready = input.restored !== undefined || !patched(PATCHES.recovery);
  const whenReady = <T>(fn: () => T | Promise<T>): T | Promise<T> => (ready ? fn() : condition(() => ready).then(fn));

  // Puts and deletes change the schedules one at a time, in the order they came, so the schedules always end
  // up as the last definition says.
  let schedulesBusy: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = schedulesBusy.then(fn);
    schedulesBusy = run.catch(() => undefined);
    return run;
  };
  /**
   * A new version goes live only once its schedules are in place; if Temporal refuses them, the schedules are
   * put back as they were and the put is refused (503), so a definition and its schedules never disagree.
   */
  const put = async (definition: PipelineDefinition, by: string): Promise<PutDefinitionResult> => {
    const wasDeleted = state.deleted;
    const previous = state.snapshot().definition.triggers;
    const previousCount = wasDeleted ? 0 : previous.length;
    const { changed, created } = state.previewPut(definition);
    if (changed || created) {
      try {
        await syncSchedules({ pipeline: name, triggers: definition.triggers, previousCount });
      } catch (err) {
        const back = {
          pipeline: name,
          triggers: wasDeleted ? [] : previous,
          previousCount: definition.triggers.length,
        };
        await syncSchedules(back).catch(() => undefined);
        throw ApplicationFailure.nonRetryable(
          `the pipeline's schedules could not be updated, so the pipeline is unchanged; try again (${(err as Error).message})`,
          ErrorTypes.Unavailable,
        );
      }
    }
    rules();
    const { result, effects } = state.putDefinition(definition, by, now());
    if (wasDeleted) publish();
    dispatch(effects);
    return result;
  };

  setHandler(pipelineQuery, () => state.snapshot());
  setHandler(pipelineStateQuery, () => state.state());
  setHandler(executionForKeyQuery, (key) => state.executionForKey(key));
  setHandler(watchedExecutionsQuery, () => state.locks.watched(now()));

  setCheckedUpdateHandler(
    putDefinitionUpdate,
    'putDefinition',
    ({ definition, by }) =>
      whenReady(async () => {
        if (patched(PATCHES.schedulesFirst)) return oneAtATime(() => put(definition, by));
        const wasDeleted = state.deleted;
        const previousCount = wasDeleted ? 0 : state.snapshot().definition.triggers.length;
        rules();
        const { result, effects } = state.putDefinition(definition, by, now());
        if (wasDeleted) publish();
        dispatch(effects);
        if (result.changed || result.created) {
          await syncSchedules({ pipeline: name, triggers: definition.triggers, previousCount });
        }
        return result;
      }),
    ({ definition }) => {
      if (definition.name !== name) {
        throw ApplicationFailure.nonRetryable('a pipeline cannot be renamed', ErrorTypes.InvalidRequest);
      }
    },
  );
  // Refusals happen in validators, so they leave no trace in history. A coordinator started afresh takes them
  // only once it has recovered (`whenReady`), so its handlers ask again, then, of what it has recovered (a key
  // used before, a pipeline deleted meanwhile), and refuse as the validator would, having changed nothing.
  const refuseAllocations = (requests: AllocateExecutionInput[]) => {
    refuseIfDeleted();
    try {
      state.checkAllocations(requests);
    } catch (err) {
      if (err instanceof IdempotencyConflict) {
        throw ApplicationFailure.nonRetryable(err.message, ErrorTypes.IdempotencyConflict);
      }
      throw err;
    }
  };
  setCheckedUpdateHandler(
    allocateExecutionUpdate,
    'allocateExecution',
    (request) =>
      whenReady(() => {
        refuseAllocations([request]);
        rules();
        return { ...state.allocate(request, now()), leavingInRequest: true as const };
      }),
    (request) => refuseAllocations([request]),
  );
  // Several triggers at once (0.8): one workflow task and two events for all of them. New: no history before it
  // has this Update, so nothing to patch.
  setCheckedUpdateHandler(
    allocateExecutionsUpdate,
    'allocateExecutions',
    ({ requests }) =>
      whenReady(() => {
        refuseAllocations(requests);
        rules();
        return { ...state.allocateAll(requests, now()), leavingInRequest: true as const };
      }),
    ({ requests }) => refuseAllocations(requests),
  );
  setCheckedUpdateHandler(
    deletePipelineUpdate,
    'deletePipeline',
    ({ by }) =>
      whenReady(async () => {
        const remove = async () => {
          const previousCount = state.snapshot().definition.triggers.length;
          state.markDeleted(by, now());
          publish();
          await syncSchedules({ pipeline: name, triggers: [], previousCount });
        };
        await (patched(PATCHES.schedulesFirst) ? oneAtATime(remove) : remove());
      }),
    () => refuseIfDeleted(),
  );
  setCheckedUpdateHandler(
    setTransitionUpdate,
    'setTransition',
    ({ stage, enabled, reason, by }) =>
      whenReady(() => {
        rules();
        dispatch(state.locks.setTransition(stage, { enabled, reason: reason ?? null, by, at: now() }));
        const stageState = () => state.state().stages.find((s) => s.name === stage)!;
        if (enabled || state.locks.mode !== 'PARALLEL' || !patched(PATCHES.parallelTransitions)) return stageState();
        // PARALLEL executions ask before a stage only once told that its transition is disabled: the answer
        // waits until every running one has been told, so none enters the stage after it.
        const recent = state.recentAllocations(now());
        return tellTransitionClosed({ pipeline: name, stage, recent, graceMs: RECENT_ALLOCATION_MS }).then(stageState);
      }),
    (request) => validateTransition(state, request),
  );

  setCheckedUpdateHandler(setConfigFreezesUpdate, 'setConfigFreezes', ({ freezes }) =>
    whenReady(() => ({ changed: state.setConfigFreezes(freezes) })),
  );

  setCheckedUpdateHandler(
    passWindowUpdate,
    'passWindow',
    ({ executionId, stage, reason, by }) =>
      whenReady(() => {
        rules();
        dispatch(state.locks.pass(executionId, stage, { by, reason, at: now() }));
        return state.state().stages.find((s) => s.name === stage)!;
      }),
    ({ executionId, stage }) => {
      const refusal = state.locks.refusePass(executionId, stage);
      if (refusal) throw ApplicationFailure.nonRetryable(refusal, ErrorTypes.WrongState);
    },
  );

  setCheckedUpdateHandler(advanceExecutionsUpdate, 'advanceExecutions', ({ atLeast }) =>
    whenReady(() => state.advanceExecutions(atLeast)),
  );

  setCheckedSignalHandler(requestStageSignal, 'requestStage', ({ executionId, stage, retry, leaving }) =>
    whenReady(() => {
      const n = parseExecutionId(executionId)!.n;
      rules();
      dispatch(state.locks.request(executionId, n, stage, now(), retry === true));
      // Asked first, then left: the execution let into the stage it leaves queues behind it at the next one.
      if (leaving && patched(PATCHES.leavingInRequest)) {
        dispatch(state.locks.leave(executionId, leaving.stage, leaving.outcome));
      }
    }),
  );
  setCheckedSignalHandler(leaveStageSignal, 'leaveStage', ({ executionId, stage, outcome }) =>
    whenReady(() => {
      rules();
      dispatch(state.locks.leave(executionId, stage, outcome));
    }),
  );
  setCheckedSignalHandler(withdrawSignal, 'withdraw', ({ executionId }) =>
    whenReady(() => {
      rules();
      state.forget(executionId);
      dispatch(state.locks.withdraw(executionId));
    }),
  );

  publish();
  if (!ready) {
    const recovered = await recoverPipeline({ pipeline: name, coordinatorWorkflowId: workflowInfo().workflowId });
    rules();
    dispatch(state.recover(recovered));
    publish();
    ready = true;
  }
  await runUntilContinueAsNew(
    () => Promise.all([watchLoop(state, dispatch), calendarLoop(state, dispatch)]),
    () => signalsInFlight === 0,
  );
  await continueAsNew<typeof coordinator>({ by: '', restored: state.toJSON() });
}

/** While the coordinator holds any lock or place, a watcher activity checks that those executions still run. */
async function watchLoop(state: CoordinatorState, dispatch: (effects: Effect[]) => void): Promise<never> {
  const now = () => new Date().toISOString();
  for (;;) {
    await condition(() => state.locks.watchesAny());
    if (!state.locks.watchesAny(now())) {
      // Only places kept for executions about to start: they arrive, or are old enough to be checked.
      const nothingFresh = () => state.locks.watchesAny(now()) || !state.locks.watchesAny();
      await condition(nothingFresh, RESERVATION_GRACE_MS + 1_000);
      continue;
    }
    const gone = await watchExecutions({ coordinatorWorkflowId: workflowInfo().workflowId });
    state.locks.current = patched(PATCHES.lockRules);
    for (const executionId of gone) dispatch(state.locks.withdraw(executionId));
  }
}

/**
 * While the pipeline has deployment windows or freezes, its stages are shut and opened as their calendars
 * say, on one durable timer set for the next change (no polling); a new definition is applied at once.
 */
async function calendarLoop(state: CoordinatorState, dispatch: (effects: Effect[]) => void): Promise<never> {
  for (;;) {
    await condition(() => Object.keys(state.calendars()).length > 0);
    // Histories written before calendars never get here: none of their definitions had one.
    if (!patched(PATCHES.deploymentWindows)) return condition(() => false) as Promise<never>;
    let revision: string;
    do {
      revision = state.calendarRevision();
      const { effects, next } = state.applyCalendars(Date.now());
      dispatch(effects);
      const changed = () => state.calendarRevision() !== revision;
      if (next === null) await condition(changed);
      else await condition(changed, Math.max(1, next - Date.now()));
    } while (Object.keys(state.calendars()).length > 0);
    dispatch(state.applyCalendars(Date.now()).effects);
  }
}

async function sendEffect(effect: Effect): Promise<void> {
  const execution = getExternalWorkflowHandle(executionWorkflowId(effect.executionId));
  switch (effect.type) {
    case 'grant':
      return execution.signal(stageGrantedSignal, {
        stage: effect.stage,
        ...(effect.pass ? { pass: effect.pass } : {}),
      });
    case 'wait':
      return execution.signal(stageWaitSignal, {
        stage: effect.stage,
        for: effect.for,
        ...(effect.opensAt !== undefined ? { opensAt: effect.opensAt } : {}),
      });
    case 'supersede':
      return execution.signal(supersededSignal, { stage: effect.stage, by: effect.by });
    case 'overtake':
      return execution.signal(overtakenSignal, { stage: effect.stage, by: effect.by });
  }
}

function validateTransition(state: CoordinatorState, { stage, enabled, reason }: SetTransitionInput): void {
  const snapshot = state.snapshot();
  if (snapshot.deleted) throw ApplicationFailure.nonRetryable('pipeline was deleted', ErrorTypes.PipelineDeleted);
  if (!snapshot.definition.stages.some((s) => s.name === stage)) {
    throw ApplicationFailure.nonRetryable(`pipeline has no stage "${stage}"`, ErrorTypes.NotFound);
  }
  if (!enabled && !reason?.trim()) {
    throw ApplicationFailure.nonRetryable('a reason is required to disable a transition', ErrorTypes.InvalidRequest);
  }
}
