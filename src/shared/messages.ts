/**
 * Every signal, query and update Paso's workflows handle, declared once. The wire name is the constant's
 * name without its suffix; these are the names to use with `temporal workflow signal/query/update`.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { PipelineDefinition } from './definition.js';
import type { ExecutionView } from './execution-view.js';

// ---- coordinator (one per pipeline) ----

export interface PutDefinitionInput {
  definition: PipelineDefinition;
  by: string;
}
export interface PutDefinitionResult {
  version: number;
  /** False when the definition equals the current one: no new version was made. */
  changed: boolean;
  /** True when this put created the pipeline (or brought a deleted one back). */
  created: boolean;
}

export interface AllocateExecutionInput {
  by: string;
  idempotencyKey?: string;
  /** A digest of the trigger request, so that a reused idempotency key with another body is refused. */
  requestDigest: string;
}
export interface AllocateExecutionResult {
  executionId: string;
  pipelineVersion: number;
  definition: PipelineDefinition;
  /** False when the idempotency key had been seen: the same execution is returned. */
  created: boolean;
}

export interface DeletePipelineInput {
  by: string;
}

export interface PipelineSnapshot {
  name: string;
  definition: PipelineDefinition;
  version: number;
  updatedAt: string;
  updatedBy: string;
  executionsStarted: number;
  deleted: boolean;
}

export const putDefinitionUpdate = defineUpdate<PutDefinitionResult, [PutDefinitionInput]>('putDefinition');
export const allocateExecutionUpdate = defineUpdate<AllocateExecutionResult, [AllocateExecutionInput]>(
  'allocateExecution',
);
export const deletePipelineUpdate = defineUpdate<void, [DeletePipelineInput]>('deletePipeline');
export const pipelineQuery = defineQuery<PipelineSnapshot>('pipeline');

// ---- execution ----

export const executionQuery = defineQuery<ExecutionView>('execution');

/** Error types workflows raise for business reasons; the gateway maps each to one HTTP status. */
export const ErrorTypes = {
  IdempotencyConflict: 'IdempotencyConflict',
  PipelineDeleted: 'PipelineDeleted',
  InvalidRequest: 'InvalidRequest',
  CommandFailed: 'CommandFailed',
  CommandTimedOut: 'CommandTimedOut',
} as const;
