/**
 * One coordinator workflow per pipeline: it keeps the pipeline's definition (versioned) and hands out
 * execution ids. It lives as long as the pipeline does (deleting a pipeline only marks it) and
 * continues-as-new when its history grows.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PipelineDefinition } from '../shared/definition.js';
import type { AllocateExecutionInput, PutDefinitionInput } from '../shared/messages.js';
import {
  allocateExecutionUpdate,
  deletePipelineUpdate,
  ErrorTypes,
  pipelineQuery,
  putDefinitionUpdate,
} from '../shared/messages.js';
import { PasoPipeline, PasoStatus } from '../shared/temporal.js';
import type { CoordinatorData } from './coordinator-state.js';
import { CoordinatorState, IdempotencyConflict } from './coordinator-state.js';

export interface CoordinatorInput {
  /** The first definition, when the pipeline is created. */
  definition: PipelineDefinition;
  by: string;
  /** The state carried over by continue-as-new. */
  restored?: CoordinatorData;
}

export async function coordinator(input: CoordinatorInput): Promise<void> {
  const now = () => new Date().toISOString();
  const state = input.restored
    ? CoordinatorState.restore(input.restored)
    : CoordinatorState.create(input.definition, input.by, now());

  /** On a coordinator, PasoStatus says whether the pipeline exists: `Active` or `Deleted`. */
  const publish = () =>
    upsertSearchAttributes([
      { key: PasoPipeline, value: state.snapshot().name },
      { key: PasoStatus, value: state.deleted ? 'Deleted' : 'Active' },
    ]);
  const refuseIfDeleted = () => {
    if (state.deleted) throw ApplicationFailure.nonRetryable('pipeline was deleted', ErrorTypes.PipelineDeleted);
  };
  publish();

  setHandler(pipelineQuery, () => state.snapshot());
  setHandler(
    putDefinitionUpdate,
    ({ definition, by }) => {
      const wasDeleted = state.deleted;
      const result = state.putDefinition(definition, by, now());
      if (wasDeleted) publish();
      return result;
    },
    {
      validator: ({ definition }: PutDefinitionInput) => {
        if (definition.name !== state.snapshot().name) {
          throw ApplicationFailure.nonRetryable('a pipeline cannot be renamed', ErrorTypes.InvalidRequest);
        }
      },
    },
  );
  setHandler(allocateExecutionUpdate, (request) => state.allocate(request), {
    // Refusals happen in the validator, so they leave no trace in history.
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
    ({ by }) => {
      state.markDeleted(by, now());
      publish();
    },
    { validator: (_request) => refuseIfDeleted() },
  );

  await condition(() => workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof coordinator>({
    definition: state.snapshot().definition,
    by: '',
    restored: state.toJSON(),
  });
}
