/**
 * Execution statuses, ids and the input that starts an execution. The view users read is in
 * `execution-view.ts`.
 */
import type { FreezeDefinition, PipelineDefinition, Variables } from './definition.js';
import type { Trigger } from './execution-view.js';
import type { LockOrder } from './named-locks.js';

/** The one input of the execution workflow: everything it needs, so it never reads a definition twice. */
export interface ExecutionInput {
  executionId: string;
  pipeline: string;
  pipelineVersion: number;
  definition: PipelineDefinition;
  /** Pipeline variables overlaid with the trigger's. */
  variables: Variables;
  sourceRevisions: Record<string, string>;
  trigger: Trigger;
  /** Where manual steps are announced (the config's `notifications.url`), if anywhere. */
  notificationUrl?: string | null;
  /** Its commands' heartbeat timeout: a worker silent this long is lost. Absent before 0.3: 15 s. */
  heartbeatTimeoutSeconds?: number;
  /** The execution in the gateway, for people who review it (from PASO_PUBLIC_URL). */
  reviewUrl?: string | null;
  /** The config-wide change freezes when it was triggered: a PARALLEL execution then asks before every stage. */
  configFreezes?: FreezeDefinition[];
  /** The order of each named lock its stages name, from the config's `locks` when it was triggered. */
  lockOrders?: Record<string, LockOrder>;
  /** PARALLEL: stages whose transition was disabled when the execution was given its id; it asks before those. */
  closedStages?: string[];
  /**
   * Its coordinator takes the stage it leaves in its request for the next one (one signal, not two). Absent
   * when an older coordinator gave the execution its id (during an upgrade): it then asks, then leaves.
   */
  leavingInRequest?: true;
}

/**
 * Execution ids are `<pipeline>-<n>`. Pipeline names may contain hyphens but `n` is digits only, so the split
 * at the last hyphen is unambiguous and two pipelines can never produce the same id.
 */
export function executionIdOf(pipeline: string, n: number): string {
  return `${pipeline}-${n}`;
}

export function parseExecutionId(id: string): { pipeline: string; n: number } | null {
  const m = /^([a-z0-9][a-z0-9-]{0,62})-([1-9][0-9]{0,15})$/.exec(id);
  return m ? { pipeline: m[1]!, n: Number(m[2]) } : null;
}
