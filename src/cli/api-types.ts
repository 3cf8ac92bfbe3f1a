/**
 * The shapes of the gateway's answers, inferred from the schemas the gateway validates and documents them
 * with (types only: nothing of the gateway is loaded by the CLI at run time).
 */
import type { z } from 'zod';
import type {
  decisionResult,
  executionPage,
  lockSchema,
  meSchema,
  pipelineStateSchema,
  pipelineSummary,
  putPipelineResult,
  stageStateSchema,
  triggerResult,
  waitingResult,
} from '../api/schemas.js';
import type { PipelineDefinition } from '../shared/definition.js';

export type { ActionView, ExecutionView, StageView } from '../shared/execution-view.js';
export type PipelineSummary = z.infer<typeof pipelineSummary>;
export type PipelineState = z.infer<typeof pipelineStateSchema>;
export type StageState = z.infer<typeof stageStateSchema>;
export type ExecutionPage = z.infer<typeof executionPage>;
export type TriggerResult = z.infer<typeof triggerResult>;
export type DecisionResult = z.infer<typeof decisionResult>;
export type PutPipelineResult = z.infer<typeof putPipelineResult>;
export type Me = z.infer<typeof meSchema>;
export type Waiting = z.infer<typeof waitingResult>;
export type Lock = z.infer<typeof lockSchema>;
/** `GET /pipelines/:name`. */
export interface PipelineDocument {
  definition: PipelineDefinition;
  version: number;
  updatedAt: string;
  updatedBy: string;
}
