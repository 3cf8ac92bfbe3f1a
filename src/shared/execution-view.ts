/**
 * The execution as users see it (CONTRACT.md section 3), described once as a schema: the workflow builds
 * values of these types (importing the types only, so no zod enters workflow code) and the OpenAPI document
 * is generated from the schema.
 */
import { z } from 'zod';

export const EXECUTION_STATUSES = [
  'InProgress',
  'Stopping',
  'Stopped',
  'Succeeded',
  'Failed',
  'Superseded',
  'Cancelled',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const STAGE_STATUSES = ['InProgress', 'Stopping', 'Stopped', 'Succeeded', 'Failed', 'Skipped'] as const;
export const ACTION_STATUSES = ['InProgress', 'Succeeded', 'Failed', 'Abandoned', 'Skipped'] as const;

const approvalRecordSchema = z.object({
  by: z.string(),
  decision: z.enum(['approve', 'reject']),
  comment: z.string(),
  at: z.string(),
});

const decisionRecordSchema = z.object({
  by: z.string(),
  decision: z.enum(['resume', 'retry', 'skip', 'abort']),
  comment: z.string(),
  at: z.string(),
});

const rollbackStepSchema = z.object({
  stage: z.string(),
  action: z.string(),
  status: z.enum(['InProgress', 'Succeeded', 'Failed']),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  error: z.string().nullable(),
  outputTail: z.string().nullable(),
});

const channelSchema = z.object({ channel: z.string(), name: z.string(), by: z.string(), at: z.string() });

const talkbackRunSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    by: z.string(),
    status: z.enum(['InProgress', 'Succeeded', 'Failed']),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    exitCode: z.number().int().nullable(),
    error: z.string().nullable(),
    outputTail: z.string().nullable(),
  })
  .meta({ id: 'TalkbackRun' });

const workerLossSchema = z.object({
  at: z.string(),
  /** `<pid>@<host>`, as Temporal shows the worker. */
  worker: z.string().nullable(),
  error: z.string(),
  /** The command ran again (`onWorkerLoss: rerun`). */
  rerun: z.boolean(),
});

const workspaceSchema = z.object({
  /** The worker whose workspace the execution's commands use, `<pid>@<host>`. */
  worker: z.string(),
  taskQueue: z.string(),
  since: z.string(),
  /** Why the execution moved to a fresh workspace, when it did. */
  note: z.string().nullable(),
});

const triggerInfoSchema = z.object({ type: z.enum(['manual', 'schedule']), by: z.string(), at: z.string() });

const actionViewSchema = z.object({
  name: z.string(),
  type: z.enum(['command', 'approval', 'pause', 'wait']),
  runOrder: z.number().int(),
  status: z.enum(ACTION_STATUSES).nullable(),
  attempt: z.number().int(),
  /** The worker that runs or ran the latest attempt of a command, `<pid>@<host>`. */
  worker: z.string().nullable(),
  /** Workers lost while the command ran on them, oldest first. */
  workerLosses: z.array(workerLossSchema),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  waitingFor: z.enum(['approval', 'resume', 'trap']).nullable(),
  error: z.string().nullable(),
  exitCode: z.number().int().nullable(),
  outputTail: z.string().nullable(),
  approvals: z.array(approvalRecordSchema),
  /** Decisions on a pause (resume) or a trap (retry, skip, abort). */
  decisions: z.array(decisionRecordSchema),
  /** What an approval or pause asks of people, while it waits. */
  request: z.object({ message: z.string().nullable(), url: z.string().nullable(), expiresAt: z.string() }).nullable(),
});

export const executionViewSchema = z
  .object({
    executionId: z.string(),
    pipeline: z.string(),
    pipelineVersion: z.number().int(),
    executionMode: z.enum(['SUPERSEDED', 'QUEUED', 'PARALLEL']),
    status: z.enum(EXECUTION_STATUSES),
    trigger: triggerInfoSchema,
    variables: z.record(z.string(), z.string()),
    sourceRevisions: z.record(z.string(), z.string()),
    /**
     * In front of which stage it waits, and for what (`WINDOW`: its calendar, which opens at `opensAt`; `LOCK`:
     * the named lock `lock`, held by `heldBy`, empty when it waits behind another waiter of that lock).
     */
    waiting: z
      .object({
        stage: z.string(),
        for: z.enum(['STAGE_LOCK', 'TRANSITION', 'WINDOW', 'LOCK']),
        opensAt: z.string().nullable().optional(),
        lock: z.string().optional(),
        heldBy: z.array(z.string()).optional(),
      })
      .nullable(),
    stages: z.array(
      z.object({
        name: z.string(),
        status: z.enum(STAGE_STATUSES).nullable(),
        startedAt: z.string().nullable(),
        endedAt: z.string().nullable(),
        actions: z.array(actionViewSchema),
      }),
    ),
    /** The rollback after a failure (rollbackOnFailure): each succeeded action's rollback, newest first. */
    rollback: z
      .object({ status: z.enum(['InProgress', 'Succeeded', 'Failed']), steps: z.array(rollbackStepSchema) })
      .nullable(),
    /**
     * Who stopped the execution, how and why. `abandonAt`: when a stop and wait (`abandonAfterSeconds`)
     * abandons the actions still running (then `abandon` turns true); null otherwise.
     */
    stop: z
      .object({
        by: z.string(),
        abandon: z.boolean(),
        reason: z.string().nullable(),
        at: z.string(),
        abandonAt: z.string().nullable(),
      })
      .nullable(),
    /** The stage `POST /executions/:id/retry` would retry, while it can; null otherwise. */
    retryableStage: z.string().nullable(),
    /** Until when it can be retried. */
    retryableUntil: z.string().nullable(),
    /** The newer execution that entered the failed stage since, making this one unretryable (not in PARALLEL). */
    overtakenBy: z.string().nullable(),
    /** Admins who let the execution through a stage's shut deployment window or freeze, and why. */
    windowPasses: z.array(z.object({ stage: z.string(), by: z.string(), reason: z.string(), at: z.string() })),
    /** ChatOps: the chat channels bound to the execution. */
    channels: z.array(channelSchema),
    /**
     * The workspace its commands use: the first a command left files in, and each fresh one after that
     * worker was lost (empty while its commands leave nothing behind: each action's `worker` says where it ran).
     */
    workspaces: z.array(workspaceSchema),
    /** Talkback commands run on the execution's behalf, oldest first. */
    talkback: z.array(talkbackRunSchema),
    error: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .meta({ id: 'Execution' });

export type ExecutionView = z.infer<typeof executionViewSchema>;
export type StageView = ExecutionView['stages'][number];
export type ActionView = StageView['actions'][number];
export type StageStatus = (typeof STAGE_STATUSES)[number];
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export type WaitingFor = NonNullable<ActionView['waitingFor']>;
export type Trigger = z.infer<typeof triggerInfoSchema>;
export type ApprovalRecord = z.infer<typeof approvalRecordSchema>;
export type StopRecord = NonNullable<ExecutionView['stop']>;
export type DecisionRecord = z.infer<typeof decisionRecordSchema>;
export type RollbackView = NonNullable<ExecutionView['rollback']>;
export type RollbackStep = z.infer<typeof rollbackStepSchema>;
export type ChannelBinding = z.infer<typeof channelSchema>;
export type TalkbackRun = z.infer<typeof talkbackRunSchema>;
export type WorkerLossRecord = z.infer<typeof workerLossSchema>;
export type WorkspaceRecord = z.infer<typeof workspaceSchema>;
export { talkbackRunSchema };
