/**
 * Every signal, query and update Paso's workflows handle, declared once. The wire name is the constant's
 * name without its suffix; these are the names to use with `temporal workflow signal/query/update`.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { FreezeDefinition, PipelineDefinition } from './definition.js';
import type { ExecutionStatus, ExecutionView, TalkbackRun, WaitingFor } from './execution-view.js';
import type { LockMode, LockOrder, LockView } from './named-locks.js';
import type { PipelineState, StageState, WaitReason } from './pipeline-state.js';

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
  /** When the key was first used, if it was seen before (and remembered with its time). */
  at?: string;
  /** PARALLEL: the stages whose transition is disabled now; the execution asks before entering them. */
  closedStages?: string[];
  /** This coordinator takes the stage an execution leaves in its request for the next (`leaving`). */
  leavingInRequest?: true;
}

/** The most requests one `allocateExecutions` Update carries. */
export const MAX_ALLOCATIONS_PER_UPDATE = 100;

/** Several triggers' requests at once, numbered in this order (see `api/allocation-batcher.ts`). */
export interface AllocateExecutionsInput {
  requests: AllocateExecutionInput[];
}
/** One request's answer within {@link AllocateExecutionsResult}: the definition is given once, beside them. */
export type Allocation = Omit<AllocateExecutionResult, 'definition' | 'pipelineVersion' | 'leavingInRequest'>;
export interface AllocateExecutionsResult {
  pipelineVersion: number;
  definition: PipelineDefinition;
  leavingInRequest: true;
  /** In the order of the requests. */
  allocations: Allocation[];
}

export interface AdvanceExecutionsInput {
  /** The highest execution number Temporal has for the pipeline. */
  atLeast: number;
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
  /** The config-wide freezes the coordinator was last given (absent: none ever). */
  configFreezes?: FreezeDefinition[];
}

export interface SetConfigFreezesInput {
  /** The config file's `freezes`, as the gateway read them (an empty list lifts them). */
  freezes: FreezeDefinition[];
  by: string;
}
/** Gateway → coordinator: the config-wide change freezes now (kept beside the pipeline's own). */
export const setConfigFreezesUpdate = defineUpdate<{ changed: boolean }, [SetConfigFreezesInput]>('setConfigFreezes');

export const putDefinitionUpdate = defineUpdate<PutDefinitionResult, [PutDefinitionInput]>('putDefinition');
export const allocateExecutionUpdate = defineUpdate<AllocateExecutionResult, [AllocateExecutionInput]>(
  'allocateExecution',
);
/** Several triggers' ids in one Update (0.8); a coordinator of before refuses it, having no handler for it. */
export const allocateExecutionsUpdate = defineUpdate<AllocateExecutionsResult, [AllocateExecutionsInput]>(
  'allocateExecutions',
);
export const deletePipelineUpdate = defineUpdate<void, [DeletePipelineInput]>('deletePipeline');
/** The gateway found an execution with the id it was given (the coordinator was reset): count on from there. */
export const advanceExecutionsUpdate = defineUpdate<void, [AdvanceExecutionsInput]>('advanceExecutions');
export const pipelineQuery = defineQuery<PipelineSnapshot>('pipeline');
/** The execution an idempotency key already started, if any. */
export const executionForKeyQuery = defineQuery<string | null, [string]>('executionForKey');
export const pipelineStateQuery = defineQuery<PipelineState>('pipelineState');
/** The executions the coordinator holds a lock or a place for: what its watcher checks are still running. */
export const watchedExecutionsQuery = defineQuery<string[]>('watchedExecutions');

export interface SetTransitionInput {
  stage: string;
  enabled: boolean;
  reason?: string;
  by: string;
}
export const setTransitionUpdate = defineUpdate<StageState, [SetTransitionInput]>('setTransition');

export interface PassWindowInput {
  executionId: string;
  stage: string;
  reason: string;
  by: string;
}
/** An admin lets one execution waiting for a shut window (`WINDOW`) into the stage; refused otherwise. */
export const passWindowUpdate = defineUpdate<StageState, [PassWindowInput]>('passWindow');

// ---- between executions and their coordinator (signals, so nobody waits on an open call) ----

export interface RequestStageInput {
  executionId: string;
  stage: string;
  /** The execution failed or stopped in this stage and is retrying it. */
  retry?: boolean;
  /**
   * The stage it leaves once asked (QUEUED and SUPERSEDED ask for the next stage before they leave one): one
   * signal instead of a request and then a leave, which could cross the coordinator's answer (see
   * `src/temporal/latency.ts`). Sent only to a coordinator that said it takes it ({@link AllocateExecutionResult}).
   */
  leaving?: { stage: string; outcome: LeaveStageInput['outcome'] };
}
export interface LeaveStageInput {
  executionId: string;
  stage: string;
  outcome: 'Succeeded' | 'Failed' | 'Stopped';
}
export interface WithdrawInput {
  executionId: string;
}
/** Execution → coordinator: let me into this stage (answered by `stageGranted`, `stageWait` or `superseded`). */
export const requestStageSignal = defineSignal<[RequestStageInput]>('requestStage');
/** Execution → coordinator: I left this stage; its lock is free. */
export const leaveStageSignal = defineSignal<[LeaveStageInput]>('leaveStage');
/** Execution → coordinator: forget me (I stopped or ended while waiting). */
export const withdrawSignal = defineSignal<[WithdrawInput]>('withdraw');

export interface StageGrantedInput {
  stage: string;
  /** An admin let the execution through the stage's shut window. */
  pass?: { by: string; reason: string; at: string };
}
export interface StageWaitInput {
  stage: string;
  for: WaitReason;
  /** `WINDOW`: when the stage's calendar opens (null: not in sight). */
  opensAt?: string | null;
}
export interface SupersededInput {
  stage: string;
  by: string | null;
}
/** Coordinator → execution: enter the stage (its lock is yours). */
export const stageGrantedSignal = defineSignal<[StageGrantedInput]>('stageGranted');
/** Coordinator → execution: you wait in front of the stage, and why. */
export const stageWaitSignal = defineSignal<[StageWaitInput]>('stageWait');
/** Coordinator → execution: a newer execution took your place; you never run again. */
export const supersededSignal = defineSignal<[SupersededInput]>('superseded');

export interface TransitionClosedInput {
  stage: string;
}
/**
 * Coordinator (through an activity) → a running PARALLEL execution: the transition into this stage is
 * disabled; ask the coordinator before entering it (PARALLEL executions otherwise never ask).
 */
export const transitionClosedSignal = defineSignal<[TransitionClosedInput]>('transitionClosed');

// ---- between executions and the named locks (`paso-named-locks`) ----

export interface AcquireLocksInput {
  executionId: string;
  stage: string;
  /** When the execution was triggered (`oldest-first` and `newest-first` locks rank by it). */
  createdAt: string;
  /** Every lock the stage names, with its order from the config (taken all at once). */
  locks: { name: string; mode: LockMode; order: LockOrder }[];
}
export interface ReleaseLocksInput {
  executionId: string;
  /** The stage whose locks are given back; absent: every lock the execution holds or waits for. */
  stage?: string;
}
/** Execution (through the `requestNamedLocks` activity, which starts the workflow if need be) → named locks. */
export const acquireLocksSignal = defineSignal<[AcquireLocksInput]>('acquireLocks');
/** Execution → named locks: I left the stage (or ended): give its locks to the next, forget my requests. */
export const releaseLocksSignal = defineSignal<[ReleaseLocksInput]>('releaseLocks');
/** Every named lock: holders, waiters, fencing tokens (`GET /locks`). */
export const namedLocksQuery = defineQuery<LockView[]>('namedLocks');
/** The named locks' whole state, as continue-as-new carries it: what a run started afresh recovers from. */
export const namedLockDataQuery = defineQuery<unknown>('namedLockData');

export interface LocksGrantedInput {
  stage: string;
  /** The fencing token of each lock, for the stage's commands (`PASO_LOCK_TOKEN_<NAME>`). */
  tokens: Record<string, number>;
}
export interface LocksWaitInput {
  stage: string;
  lock: string;
  /** Who holds `lock` now (empty: it waits behind another waiter, by the lock's order). */
  heldBy: string[];
}
export interface LockSupersededInput {
  stage: string;
  lock: string;
  by: string;
}
/** Named locks → execution: every lock the stage names is yours, with these fencing tokens. */
export const locksGrantedSignal = defineSignal<[LocksGrantedInput]>('locksGranted');
/** Named locks → execution: you wait for this lock (and told again when that changes). */
export const locksWaitSignal = defineSignal<[LocksWaitInput]>('locksWait');
/** Named locks → execution: a newer execution waits for this `newest-first` lock; you never run again. */
export const lockSupersededSignal = defineSignal<[LockSupersededInput]>('lockSuperseded');

// ---- execution ----

export const executionQuery = defineQuery<ExecutionView>('execution');

/**
 * What an Update on an execution answers: small, as every answer is kept in the workflow's history (the
 * whole view is the `execution` query's).
 */
export interface ExecutionOutcome {
  executionId: string;
  status: ExecutionStatus;
  /** For a decision: what its step waits for now (`approval` while more approvals are needed). */
  waitingFor?: WaitingFor | null;
}

export interface StopInput {
  abandon: boolean;
  reason?: string;
  by: string;
  /** Stop and wait, then abandon what still runs this many seconds later (a durable timer). */
  abandonAfterSeconds?: number;
}
export interface RetryInput {
  stage: string;
  mode: 'FAILED_ACTIONS' | 'ALL_ACTIONS';
  by: string;
}
/** Stop and wait (`abandon: false`) or stop and abandon; answered at once, refused when not allowed. */
export const stopUpdate = defineUpdate<ExecutionOutcome, [StopInput]>('stop');
/** Retry the failed or stopped stage; answered at once, refused when not retryable. */
export const retryUpdate = defineUpdate<ExecutionOutcome, [RetryInput]>('retry');

/** Who decides, as the gateway vouches for them (from the token and the config file). */
export interface Decider {
  by: string;
  groups?: string[];
  /** Paso roles; operators (and admins) may resume any pause and decide traps. */
  roles?: string[];
}
export interface ApprovalDecision extends Decider {
  stage: string;
  action: string;
  decision: 'approve' | 'reject';
  comment?: string;
}
export interface ResumeDecision extends Decider {
  stage: string;
  action: string;
  comment?: string;
}
export interface TrapDecision extends Decider {
  stage: string;
  action: string;
  decision: 'retry' | 'skip' | 'abort';
  comment?: string;
}
/**
 * People's decisions on manual steps. The signals are for `temporal workflow signal` and the UI (a decision
 * that is not allowed is ignored); the Updates are what the gateway sends, refused with a reason instead.
 */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
export const resumeSignal = defineSignal<[ResumeDecision]>('resume');
export const trapSignal = defineSignal<[TrapDecision]>('trap');
export const decideApprovalUpdate = defineUpdate<ExecutionOutcome, [ApprovalDecision]>('decideApproval');
export const decideResumeUpdate = defineUpdate<ExecutionOutcome, [ResumeDecision]>('decideResume');
export const decideTrapUpdate = defineUpdate<ExecutionOutcome, [TrapDecision]>('decideTrap');

/** A chat channel (Slack's id, and its name without "#"). */
export interface ChannelRef {
  channel: string;
  name: string;
}
export interface BindChannelInput extends ChannelRef {
  by: string;
}
/**
 * ChatOps: the channel follows the execution from now on (its messages become annotations, the execution
 * posts its manual steps and its end there). Binding a bound channel again changes nothing.
 */
export const bindChannelUpdate = defineUpdate<ExecutionOutcome, [BindChannelInput]>('bindChannel');

export interface RunTalkbackInput {
  /** The Talkback item's name and script, as the config file had them when a person asked. */
  name: string;
  run: string;
  timeoutSeconds: number;
  by: string;
  /** Names of the secrets it receives (the config file's); the worker reads their values. */
  secrets?: string[];
}
/** Runs a Talkback command for the execution, in the background; answers with its run as it starts. */
export const runTalkbackUpdate = defineUpdate<TalkbackRun, [RunTalkbackInput]>('runTalkback');

export interface OvertakenInput {
  stage: string;
  by: string;
}
/** Coordinator → execution (SUPERSEDED mode): a newer execution entered the stage you failed in. */
export const overtakenSignal = defineSignal<[OvertakenInput]>('overtaken');

/** Error types workflows raise for business reasons; the gateway maps each to one HTTP status. */
export const ErrorTypes = {
  IdempotencyConflict: 'IdempotencyConflict',
  PipelineDeleted: 'PipelineDeleted',
  InvalidRequest: 'InvalidRequest',
  NotFound: 'NotFound',
  WrongState: 'WrongState',
  Forbidden: 'Forbidden',
  CommandFailed: 'CommandFailed',
  CommandTimedOut: 'CommandTimedOut',
  /** The worker running a command was lost (fenced off from Temporal, or shut down past its grace period). */
  WorkerLost: 'WorkerLost',
  /** Temporal refused a change Paso needs (a schedule): nothing was changed; try again. */
  Unavailable: 'Unavailable',
  /** Slack will never take this chat post (the channel is gone, the bot was removed, the token is wrong). */
  ChatRefused: 'ChatRefused',
} as const;
