/**
 * One coordinator workflow per pipeline, its entity: it keeps the definition (versioned), hands out
 * execution ids, and owns the stage locks, inbound lists and transitions (decided by {@link LockTable}).
 * Executions ask by signal and are answered by signal; no call stays open. A watcher activity frees the
 * places of executions that ended without saying so (terminated, timed out, reset). The coordinator lives
 * as long as the pipeline (deleting only marks it) and continues-as-new when its history grows.
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PipelineDefinition } from '../shared/definition.js';
import { parseExecutionId } from '../shared/execution.js';
import type { AllocateExecutionInput, PutDefinitionInput, SetTransitionInput } from '../shared/messages.js';
import {
  allocateExecutionUpdate,
  deletePipelineUpdate,
  ErrorTypes,
  executionForKeyQuery,
  leaveStageSignal,
  overtakenSignal,
  pipelineQuery,
  pipelineStateQuery,
  putDefinitionUpdate,
  requestStageSignal,
  setTransitionUpdate,
  stageGrantedSignal,
  stageWaitSignal,
  supersededSignal,
  watchedExecutionsQuery,
  withdrawSignal,
} from '../shared/messages.js';
import { executionWorkflowId, PasoPipeline, PasoStatus } from '../shared/temporal.js';
import type { CoordinatorData } from './coordinator-state.js';
import { CoordinatorState, IdempotencyConflict } from './coordinator-state.js';
import type { Effect } from './lock-table.js';

export interface CoordinatorInput {
  /** The first definition, when the pipeline is created. */
  definition: PipelineDefinition;
  by: string;
  /** The state carried over by continue-as-new. */
  restored?: CoordinatorData;
}

const { watchExecutions } = proxyActivities<Activities>({
  summary: 'watch lock holders and waiting executions',
  startToCloseTimeout: '70m',
  heartbeatTimeout: '30s',
  // Continue-as-new cancels the watcher and must not wait for it.
  cancellationType: ActivityCancellationType.TRY_CANCEL,
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
    : CoordinatorState.create(input.definition, input.by, now());
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
  const dispatch = (effects: Effect[]): void => {
    for (const effect of effects) {
      signalsInFlight += 1;
      sendEffect(effect)
        // An overtaken execution may have ended long ago (its retry window closed): nothing to free then.
        .catch(() => effect.type !== 'overtake' && dispatch(state.locks.withdraw(effect.executionId)))
        .finally(() => (signalsInFlight -= 1));
    }
  };

  setHandler(pipelineQuery, () => state.snapshot());
  setHandler(pipelineStateQuery, () => state.state());
  setHandler(executionForKeyQuery, (key) => state.executionForKey(key));
  setHandler(watchedExecutionsQuery, () => state.locks.watched());

  setHandler(
    putDefinitionUpdate,
    async ({ definition, by }) => {
      const wasDeleted = state.deleted;
      const previousCount = wasDeleted ? 0 : state.snapshot().definition.triggers.length;
      const { result, effects } = state.putDefinition(definition, by, now());
      if (wasDeleted) publish();
      dispatch(effects);
      if (result.changed || result.created) {
        await syncSchedules({ pipeline: name, triggers: definition.triggers, previousCount });
      }
      return result;
    },
    {
      validator: ({ definition }: PutDefinitionInput) => {
        if (definition.name !== name) {
          throw ApplicationFailure.nonRetryable('a pipeline cannot be renamed', ErrorTypes.InvalidRequest);
        }
      },
    },
  );
  setHandler(allocateExecutionUpdate, (request) => state.allocate(request), {
    // Refusals happen in validators, so they leave no trace in history.
    validator: (request: AllocateExecutionInput) => {
      refuseIfDeleted();
      try {
        state.checkAllocation(request);
      } catch (err) {
        if (err instanceof IdempotencyConflict) {
          throw ApplicationFailure.nonRetryable(err.message, ErrorTypes.IdempotencyConflict);
        }
        throw err;
      }
    },
  });
  setHandler(
    deletePipelineUpdate,
    async ({ by }) => {
      const previousCount = state.snapshot().definition.triggers.length;
      state.markDeleted(by, now());
      publish();
      await syncSchedules({ pipeline: name, triggers: [], previousCount });
    },
    { validator: (_request) => refuseIfDeleted() },
  );
  setHandler(
    setTransitionUpdate,
    ({ stage, enabled, reason, by }) => {
      dispatch(state.locks.setTransition(stage, { enabled, reason: reason ?? null, by, at: now() }));
      return state.state().stages.find((s) => s.name === stage)!;
    },
    { validator: (request: SetTransitionInput) => validateTransition(state, request) },
  );

  setHandler(requestStageSignal, ({ executionId, stage }) => {
    const n = parseExecutionId(executionId)?.n ?? 0;
    dispatch(state.locks.request(executionId, n, stage, now()));
  });
  setHandler(leaveStageSignal, ({ executionId, stage, outcome }) =>
    dispatch(state.locks.leave(executionId, stage, outcome)),
  );
  setHandler(withdrawSignal, ({ executionId }) => dispatch(state.locks.withdraw(executionId)));

  publish();
  const watcher = new CancellationScope();
  const watching = watcher
    .run(() => watchLoop(state, dispatch))
    .catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });

  await condition(() => workflowInfo().continueAsNewSuggested);
  watcher.cancel();
  await watching;
  await condition(() => signalsInFlight === 0 && allHandlersFinished());
  await continueAsNew<typeof coordinator>({
    definition: state.snapshot().definition,
    by: '',
    restored: state.toJSON(),
  });
}

/** While the coordinator holds any lock or place, a watcher activity checks that those executions still run. */
async function watchLoop(state: CoordinatorState, dispatch: (effects: Effect[]) => void): Promise<never> {
  for (;;) {
    await condition(() => state.locks.watched().length > 0);
    const gone = await watchExecutions({ coordinatorWorkflowId: workflowInfo().workflowId });
    for (const executionId of gone) dispatch(state.locks.withdraw(executionId));
  }
}

async function sendEffect(effect: Effect): Promise<void> {
  const execution = getExternalWorkflowHandle(executionWorkflowId(effect.executionId));
  switch (effect.type) {
    case 'grant':
      return execution.signal(stageGrantedSignal, { stage: effect.stage });
    case 'wait':
      return execution.signal(stageWaitSignal, { stage: effect.stage, for: effect.for });
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
  if (!enabled && snapshot.definition.executionMode === 'PARALLEL') {
    throw ApplicationFailure.nonRetryable(
      'PARALLEL executions run independently and do not pass through transitions; disabling one would hold nothing',
      ErrorTypes.WrongState,
    );
  }
}
