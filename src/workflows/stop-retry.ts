/**
 * The execution's `stop` and `retry` Updates refuse, before anything changes, what is not allowed now (the
 * gateway answers 409/404 with these reasons). Pure functions of the execution's state.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ExecutionStatus } from '../shared/execution-view.js';
import type { RetryInput, StopInput } from '../shared/messages.js';
import { ErrorTypes } from '../shared/messages.js';
import type { ExecutionState } from './execution-state.js';

const ENDED: readonly ExecutionStatus[] = ['Stopped', 'Succeeded', 'Failed', 'Superseded', 'Cancelled'];

function wrongState(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ErrorTypes.WrongState);
}

export function validateStop(state: ExecutionState, { abandon }: StopInput): void {
  if (ENDED.includes(state.status)) throw wrongState(`the execution has ended (${state.status})`);
  if (state.rollingBack) {
    throw wrongState('the execution failed and is rolling back; a stop now would leave the rollback half done');
  }
  if (state.status === 'Stopping' && !abandon) {
    throw wrongState('the execution is already stopping; only stop-and-abandon may follow');
  }
}

export function validateRetry(state: ExecutionState, { stage }: RetryInput): void {
  const view = state.view();
  if (!state.hasStage(stage)) {
    throw ApplicationFailure.nonRetryable(`the pipeline has no stage "${stage}"`, ErrorTypes.NotFound);
  }
  if (view.status === 'InProgress' || view.status === 'Stopping') throw wrongState('the execution is in progress');
  if (state.retryableStage === null) {
    if (view.overtakenBy) {
      throw wrongState(`a newer execution (${view.overtakenBy}) has entered the failed stage since`);
    }
    throw wrongState(`the execution cannot be retried (${view.status})`);
  }
  if (stage !== state.retryableStage) throw wrongState(`only stage "${state.retryableStage}" can be retried`);
}
