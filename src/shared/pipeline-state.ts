/** `GET /pipelines/:name/state` (CONTRACT.md section 3): locks, inbound executions and transitions per stage. */
export type WaitReason = 'STAGE_LOCK' | 'TRANSITION';

export interface Transition {
  enabled: boolean;
  reason: string | null;
  by: string | null;
  at: string | null;
}

export interface StageState {
  name: string;
  transition: Transition;
  lockedBy: string | null;
  inbound: { executionId: string; status: 'InProgress'; waitingFor: WaitReason }[];
  latestExecution: { executionId: string; status: string } | null;
}

export interface PipelineState {
  name: string;
  executionMode: 'SUPERSEDED' | 'QUEUED' | 'PARALLEL';
  version: number;
  stages: StageState[];
}
