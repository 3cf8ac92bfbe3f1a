/** `GET /pipelines/:name/state` (CONTRACT.md section 3): locks, inbound executions and transitions per stage. */
export type WaitReason = 'STAGE_LOCK' | 'TRANSITION' | 'WINDOW';

export interface Transition {
  enabled: boolean;
  reason: string | null;
  by: string | null;
  at: string | null;
}

export interface StageState {
  name: string;
  transition: Transition;
  /** How many executions may hold the stage at once (its `concurrency`; 1 unless the definition says). */
  concurrency: number;
  /** The oldest holder (the only one, with one slot); kept for clients that know one holder. */
  lockedBy: string | null;
  /** Every execution holding the stage, in the order they entered it. */
  holders: string[];
  /** Shut by its calendar (outside its windows, or a freeze): why, and when it opens (null: not in sight). */
  window: { reason: string; opensAt: string | null } | null;
  inbound: { executionId: string; status: 'InProgress'; waitingFor: WaitReason }[];
  latestExecution: { executionId: string; status: string } | null;
}

export interface PipelineState {
  name: string;
  executionMode: 'SUPERSEDED' | 'QUEUED' | 'PARALLEL';
  version: number;
  stages: StageState[];
}
