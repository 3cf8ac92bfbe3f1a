/**
 * The execution as it progresses, kept in the shape users read (CONTRACT.md section 3). A plain class with
 * no Temporal in it: the execution workflow reports what happens, this class keeps the view consistent.
 */
import type { Stage } from '../shared/definition.js';
import { cloneJson } from './json.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { ExecutionOutcome } from '../shared/messages.js';
import type { WaitReason } from '../shared/pipeline-state.js';
import type {
  ActionStatus,
  ActionView,
  ExecutionStatus,
  ExecutionView,
  StageStatus,
  StageView,
  StopRecord,
  WaitingFor,
  ApprovalRecord,
  DecisionRecord,
  RollbackStep,
  ChannelBinding,
  TalkbackRun,
  WorkerLossRecord,
  WorkspaceRecord,
} from '../shared/execution-view.js';

/** What a command leaves behind, whether it succeeded or not. */
export interface CommandOutcome {
  exitCode: number | null;
  startedAt: string;
  endedAt: string;
  outputTail: string;
  /** The worker that ran it, `<pid>@<host>` (absent in histories before 0.3). */
  worker?: string;
  /**
   * The task queue of that worker's workspaces, when the command left files there: the execution's next
   * commands go there (affinity). Absent when it left the workspace empty (from 0.8 on), which binds nothing.
   */
  workspace?: string;
  /** Its activity gave the stage's lock on as the script exited 0 (it was asked to: see hand-off.ts). */
  handedOff?: true;
}

/** How many Talkback runs the view keeps (a run in progress is never dropped). */
export const TALKBACK_RUNS_KEPT = 20;

const FINAL_EXECUTION: readonly ExecutionStatus[] = ['Stopped', 'Succeeded', 'Failed', 'Superseded', 'Cancelled'];

export class ExecutionState {
  private readonly v: ExecutionView;
  /** Actions in the order they succeeded (a retried one counts where it last succeeded). */
  private readonly completed: { stage: string; action: string }[] = [];

  constructor(input: ExecutionInput, at: string) {
    this.v = {
      executionId: input.executionId,
      pipeline: input.pipeline,
      pipelineVersion: input.pipelineVersion,
      executionMode: input.definition.executionMode,
      status: 'InProgress',
      trigger: input.trigger,
      variables: input.variables,
      sourceRevisions: input.sourceRevisions,
      waiting: null,
      stages: input.definition.stages.map(blankStage),
      rollback: null,
      stop: null,
      retryableStage: null,
      retryableUntil: null,
      overtakenBy: null,
      windowPasses: [],
      channels: [],
      workspaces: [],
      talkback: [],
      error: null,
      startedAt: at,
      endedAt: null,
    };
  }

  get status(): ExecutionStatus {
    return this.v.status;
  }

  get stopRequest(): StopRecord | null {
    return this.v.stop;
  }

  /** The execution's failure is being rolled back: nothing can stop that halfway. */
  get rollingBack(): boolean {
    return this.v.rollback?.status === 'InProgress';
  }

  get retryableStage(): string | null {
    return this.v.retryableStage;
  }

  /** The stage the execution is in now, if any. */
  get activeStage(): string | null {
    return this.v.stages.find((s) => s.status === 'InProgress' || s.status === 'Stopping')?.name ?? null;
  }

  get ended(): boolean {
    return FINAL_EXECUTION.includes(this.v.status);
  }

  /** The stage an execution is in or was last in: what `PasoStage` shows. */
  get currentStage(): string | null {
    return [...this.v.stages].reverse().find((s) => s.status !== null)?.name ?? null;
  }

  view(): ExecutionView {
    return cloneJson(this.v);
  }

  /** What an Update answers: the execution's status and, for a decision, what its step waits for now. */
  outcome(step?: { stage: string; action: string }): ExecutionOutcome {
    const { executionId, status } = this.v;
    return step
      ? { executionId, status, waitingFor: this.action(step.stage, step.action).waitingFor }
      : { executionId, status };
  }

  /** The execution waits in front of `stage` (CodePipeline's inbound execution), for its lock or transition. */
  inbound(stage: string, reason: WaitReason, opensAt?: string | null): void {
    this.v.waiting = { stage, for: reason, ...(reason === 'WINDOW' ? { opensAt: opensAt ?? null } : {}) };
  }

  /**
   * The execution holds its stage's lock (if any) and waits for a named lock that `heldBy` hold (absent: it
   * has asked and has no answer yet).
   */
  waitsForLock(stage: string, lock: string, heldBy?: string[]): void {
    this.v.waiting = { stage, for: 'LOCK', lock, ...(heldBy ? { heldBy } : {}) };
  }

  /** An admin let the execution through the shut window of `stage`. */
  windowPassed(stage: string, pass: { by: string; reason: string; at: string }): void {
    this.v.windowPasses.push({ stage, ...pass });
  }

  stageStarted(stage: string, at: string): void {
    this.v.waiting = null;
    Object.assign(this.stage(stage), { status: 'InProgress', startedAt: at, endedAt: null });
  }

  stageEnded(stage: string, status: StageStatus, at: string): void {
    Object.assign(this.stage(stage), { status, endedAt: at });
  }

  actionStarted(stage: string, action: string, at: string): void {
    const a = this.action(stage, action);
    const done = this.completed.findIndex((c) => c.stage === stage && c.action === action);
    if (done >= 0) this.completed.splice(done, 1);
    Object.assign(a, {
      status: 'InProgress',
      attempt: a.attempt + 1,
      startedAt: at,
      endedAt: null,
      error: null,
      exitCode: null,
      outputTail: null,
      waitingFor: null, // a trap retried: nobody is asked anything while the command runs again
      request: null,
    });
  }

  actionEnded(stage: string, action: string, status: ActionStatus, at: string, error: string | null = null): void {
    Object.assign(this.action(stage, action), { status, endedAt: at, error, waitingFor: null, request: null });
    if (status === 'Succeeded') this.completed.push({ stage, action });
  }

  /** The worker running a command was lost; a rerun is a new attempt. */
  workerLost(stage: string, action: string, loss: WorkerLossRecord): void {
    const a = this.action(stage, action);
    a.workerLosses.push(loss);
    if (loss.worker) a.worker = loss.worker;
    if (loss.rerun) Object.assign(a, { attempt: a.attempt + 1, startedAt: loss.at, worker: null });
  }

  /** The execution's commands run in a workspace on another worker from now on. */
  workspaceMoved(workspace: WorkspaceRecord): void {
    this.v.workspaces.push(workspace);
  }

  /** A command failed under `onError: trap`: it stays InProgress, waiting for a person, its error shown. */
  trapped(stage: string, action: string, error: string, expiresAt: string): void {
    Object.assign(this.action(stage, action), {
      status: 'InProgress',
      error,
      waitingFor: 'trap',
      request: { message: error, url: null, expiresAt },
    });
  }

  /** A manual step waits for people: an approval, a resume, or a decision on a trapped failure. */
  waitingFor(stage: string, action: string, what: WaitingFor, request: ActionView['request'] = null): void {
    Object.assign(this.action(stage, action), { waitingFor: what, request });
  }

  recordApproval(stage: string, action: string, record: ApprovalRecord): void {
    this.action(stage, action).approvals.push(record);
  }

  recordDecision(stage: string, action: string, record: DecisionRecord): void {
    this.action(stage, action).decisions.push(record);
  }

  /** Actions that succeeded, newest first: the order their rollbacks run in. */
  succeededNewestFirst(): { stage: string; action: string }[] {
    return [...this.completed].reverse();
  }

  rollbackStarted(): void {
    this.v.rollback = { status: 'InProgress', steps: [] };
  }

  rollbackStep(step: RollbackStep): void {
    const steps = this.v.rollback!.steps;
    const i = steps.findIndex((s) => s.stage === step.stage && s.action === step.action);
    if (i >= 0) steps[i] = step;
    else steps.push(step);
  }

  rollbackEnded(status: 'Succeeded' | 'Failed'): void {
    this.v.rollback!.status = status;
  }

  knowsAction(stage: string, action: string): boolean {
    return this.v.stages.some((s) => s.name === stage && s.actions.some((a) => a.name === action));
  }

  /** Records a command's own times and output, which are more exact than the workflow's clock. */
  commandOutcome(stage: string, action: string, outcome: CommandOutcome): void {
    Object.assign(this.action(stage, action), {
      ...(outcome.worker ? { worker: outcome.worker } : {}),
      startedAt: outcome.startedAt,
      endedAt: outcome.endedAt,
      exitCode: outcome.exitCode,
      outputTail: outcome.outputTail,
    });
  }

  /** A stop was asked for: the execution and the stage it is in are Stopping until what runs has ended. */
  stopping(stop: StopRecord): void {
    this.v.stop = stop;
    this.v.status = 'Stopping';
    const stage = this.v.stages.find((s) => s.status === 'InProgress');
    if (stage) stage.status = 'Stopping';
  }

  /** A stop and wait's `abandonAt` has come: what still runs is abandoned, as if stop and abandon followed. */
  abandonStop(): void {
    if (this.v.stop) this.v.stop.abandon = true;
  }

  /** The execution may be retried from `stage` until `until`. */
  retryable(stage: string, until: string): void {
    Object.assign(this.v, { retryableStage: stage, retryableUntil: until });
  }

  notRetryable(overtakenBy: string | null = null): void {
    Object.assign(this.v, { retryableStage: null, retryableUntil: null });
    if (overtakenBy) this.v.overtakenBy = overtakenBy;
  }

  /** A retry begins: the execution is in progress again; the failure and the stop belong to the past. */
  resume(): void {
    Object.assign(this.v, {
      status: 'InProgress',
      endedAt: null,
      error: null,
      stop: null,
      retryableStage: null,
      retryableUntil: null,
    });
  }

  /** The actions `FAILED_ACTIONS` reruns: those that failed, were abandoned or never ran. */
  unfinishedActions(stage: string): string[] {
    return this.stage(stage)
      .actions.filter((a) => a.status !== 'Succeeded' && a.status !== 'Skipped')
      .map((a) => a.name);
  }

  hasStage(stage: string): boolean {
    return this.v.stages.some((s) => s.name === stage);
  }

  /** What was running when the execution was cancelled from outside Paso did not finish. */
  abandonRunning(at: string): void {
    for (const stage of this.v.stages) {
      for (const a of stage.actions)
        if (a.status === 'InProgress') Object.assign(a, { status: 'Abandoned', endedAt: at });
      if (stage.status === 'InProgress') Object.assign(stage, { status: 'Stopped', endedAt: at });
    }
  }

  finish(status: ExecutionStatus, at: string, error: string | null = null): void {
    Object.assign(this.v, { status, endedAt: at, error, waiting: null });
  }

  get channels(): readonly ChannelBinding[] {
    return this.v.channels;
  }

  /** Binds a chat channel; false when it was bound already. */
  bindChannel(binding: ChannelBinding): boolean {
    if (this.v.channels.some((c) => c.channel === binding.channel)) return false;
    this.v.channels.push(binding);
    return true;
  }

  /**
   * A Talkback command starts; its id counts on from the last one's, so it is the same on every replay. Only
   * the latest {@link TALKBACK_RUNS_KEPT} stay in the view (every run's output is also an annotation).
   */
  talkbackStarted(name: string, by: string, at: string): TalkbackRun {
    const last = this.v.talkback.at(-1);
    const run: TalkbackRun = {
      id: `tb-${(last ? Number(last.id.slice('tb-'.length)) : 0) + 1}`,
      name,
      by,
      status: 'InProgress',
      startedAt: at,
      endedAt: null,
      exitCode: null,
      error: null,
      outputTail: null,
    };
    this.v.talkback.push(run);
    const finished = this.v.talkback.filter((t) => t.status !== 'InProgress');
    if (this.v.talkback.length > TALKBACK_RUNS_KEPT && finished.length > 0) {
      this.v.talkback.splice(this.v.talkback.indexOf(finished[0]!), 1);
    }
    return cloneJson(run);
  }

  talkbackEnded(id: string, outcome: CommandOutcome | null, error: string | null, at: string): TalkbackRun {
    const run = this.v.talkback.find((t) => t.id === id);
    if (!run) throw new Error(`unknown Talkback run ${id}`);
    Object.assign(run, {
      status: error ? 'Failed' : 'Succeeded',
      endedAt: at,
      exitCode: outcome?.exitCode ?? null,
      outputTail: outcome?.outputTail ?? null,
      error,
    });
    return cloneJson(run);
  }

  private stage(name: string): StageView {
    const s = this.v.stages.find((x) => x.name === name);
    if (!s) throw new Error(`unknown stage ${name}`);
    return s;
  }

  private action(stage: string, name: string): ActionView {
    const a = this.stage(stage).actions.find((x) => x.name === name);
    if (!a) throw new Error(`unknown action ${stage}/${name}`);
    return a;
  }
}

function blankStage(stage: Stage): StageView {
  return {
    name: stage.name,
    status: null,
    startedAt: null,
    endedAt: null,
    actions: stage.actions.map((a) => ({
      name: a.name,
      type: a.type,
      runOrder: a.runOrder,
      status: null,
      attempt: 0,
      worker: null,
      workerLosses: [],
      startedAt: null,
      endedAt: null,
      waitingFor: null,
      error: null,
      exitCode: null,
      outputTail: null,
      approvals: [],
      decisions: [],
      request: null,
    })),
  };
}

/** Groups a stage's actions by `runOrder`, ascending: each group runs in parallel, groups one after another. */
export function runOrderGroups<A extends { runOrder: number }>(actions: readonly A[]): A[][] {
  const orders = [...new Set(actions.map((a) => a.runOrder))].sort((x, y) => x - y);
  return orders.map((o) => actions.filter((a) => a.runOrder === o));
}
