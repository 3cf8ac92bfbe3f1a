/**
 * CHECK (Clarive) as both sides speak it: the `check` workflow's input and result, and its workflow id.
 * Safe to import from workflow code (no I/O).
 */
import type { CommandAction, Variables } from './definition.js';

export interface CheckInput {
  pipeline: string;
  checks: CommandAction[];
  /** The pipeline's variables overlaid with the trigger's. */
  variables: Variables;
}

export interface CheckResult {
  name: string;
  status: 'Succeeded' | 'Failed' | 'NotRun';
  /** The end of the check's output, and how it ended. */
  output: string;
}

/** One CHECK run of a trigger request; `:` keeps it apart from coordinator and execution ids. */
export function checkWorkflowId(pipeline: string, requestId: string): string {
  return `pipeline:${pipeline}:check:${requestId}`;
}
