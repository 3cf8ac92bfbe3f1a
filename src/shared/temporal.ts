/**
 * Names both sides of Temporal agree on: workflow ids, search attributes, the default task queue.
 * Safe to import from workflow code (no I/O).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DEFAULT_TASK_QUEUE = 'paso';

/** Search attributes Paso keeps current on every workflow (CONTRACT.md section 4). */
export const PasoPipeline = defineSearchAttributeKey('PasoPipeline', SearchAttributeType.KEYWORD);
export const PasoStatus = defineSearchAttributeKey('PasoStatus', SearchAttributeType.KEYWORD);
export const PasoStage = defineSearchAttributeKey('PasoStage', SearchAttributeType.KEYWORD);
/** ChatOps: the ids of the chat channels bound to an execution, so a message finds its execution. */
export const PasoChannels = defineSearchAttributeKey('PasoChannels', SearchAttributeType.KEYWORD_LIST);
/**
 * What an execution waits for people to decide now (`approval`, `resume`, `trap`), unset when nothing: how
 * `GET /waiting` finds the executions to read without reading every running one.
 */
export const PasoWaiting = defineSearchAttributeKey('PasoWaiting', SearchAttributeType.KEYWORD_LIST);
export const SEARCH_ATTRIBUTES = [PasoPipeline, PasoStatus, PasoStage, PasoChannels, PasoWaiting] as const;

/**
 * The coordinator of pipeline `name`. `:` cannot occur in a pipeline or execution id, so this id can never
 * collide with an execution's.
 */
export function coordinatorWorkflowId(pipeline: string): string {
  return `pipeline:${pipeline}`;
}

/** An execution's workflow id is its execution id (`web-42`), so `temporal workflow signal -w web-42` works. */
export function executionWorkflowId(executionId: string): string {
  return executionId;
}
