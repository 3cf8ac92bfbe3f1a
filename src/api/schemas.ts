/**
 * The gateway's request and response schemas. Requests are validated with them and the OpenAPI document
 * is generated from them, so the two cannot drift apart.
 */
import { z } from 'zod';
import { LOCK_MODES, LOCK_ORDERS, lockSchemas } from '../shared/named-locks.js';
import 'zod-openapi';
import { ANNOTATION_ID } from '../annotations.js';
import { definitionSchemas } from '../shared/definition.js';
import { parseExecutionId } from '../shared/execution.js';
import { EXECUTION_STATUSES } from '../shared/execution-view.js';
import { MAX_ABANDON_AFTER_SECONDS } from '../shared/message-schemas.js';
export { executionViewSchema } from '../shared/execution-view.js';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const pipelineParams = z.object({ name: definitionSchemas().pipelineName });
export const executionParams = z.object({ id: z.string().min(1).max(100) });

/**
 * Path parameters that end up in a file path are held to the exact shape of what Paso names files by, so no
 * `/`, `..` or NUL can reach one; a route answers 404 when they do not match (nothing can be found by them).
 */
const fileExecutionId = z
  .string()
  .max(100)
  .refine((id) => parseExecutionId(id) !== null, 'not an execution id');
/** An action's log, or `<action>.rollback` for its rollback's. */
const LOG_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}(\.rollback)?$/;
export const logParams = z.object({
  id: fileExecutionId,
  stage: definitionSchemas().stepName,
  action: z.string().regex(LOG_NAME),
});
export const logQuery = z.object({
  /** `true`: keep the response open and send the output as it comes, until the action ends. */
  follow: z.enum(['true', 'false']).default('false'),
});
export const annotationFileParams = z.object({ id: fileExecutionId, annotationId: z.string().regex(ANNOTATION_ID) });

export const putPipelineResult = z
  .object({ name: z.string(), version: z.number().int() })
  .meta({ id: 'PutPipelineResult' });

export const pipelineSummary = z
  .object({
    name: z.string(),
    version: z.number().int(),
    executionMode: z.enum(['SUPERSEDED', 'QUEUED', 'PARALLEL']),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .meta({ id: 'PipelineSummary' });

export const triggerBody = z
  .object({
    variables: definitionSchemas().variables.optional(),
    sourceRevisions: z.record(z.string().min(1).max(200), z.string().max(1000)).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict()
  .meta({ id: 'TriggerRequest' });
export type TriggerBody = z.infer<typeof triggerBody>;

export const triggerResult = z
  .object({ executionId: z.string(), status: z.enum(EXECUTION_STATUSES) })
  .meta({ id: 'TriggerResult' });

/** A page's cursor: opaque to clients; inside, the execution number the next page starts below. */
export const executionCursor = {
  encode: (below: number) => Buffer.from(JSON.stringify({ below }), 'utf8').toString('base64url'),
  decode: (cursor: string): number | null => {
    try {
      const { below } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { below?: unknown };
      return Number.isSafeInteger(below) && (below as number) >= 1 ? (below as number) : null;
    } catch {
      return null;
    }
  },
};

export const listExecutionsQuery = z
  .object({
    status: z.enum(EXECUTION_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    cursor: z
      .string()
      .max(200)
      .transform((cursor, ctx) => {
        const below = executionCursor.decode(cursor);
        if (below === null) ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave (nextCursor)' });
        return below ?? 0;
      })
      .optional()
      .meta({ description: 'the `nextCursor` of the previous page', type: 'string' }),
  })
  .strict();

export const executionSummary = z
  .object({
    executionId: z.string(),
    pipeline: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    stage: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .meta({ id: 'ExecutionSummary' });
export type ExecutionSummary = z.infer<typeof executionSummary>;

/** A page of a pipeline's executions, newest first. */
export const executionPage = z
  .object({
    executions: z.array(executionSummary),
    nextCursor: z.string().nullable().meta({ description: 'give it as `cursor` for the next page; null: no more' }),
  })
  .meta({ id: 'ExecutionPage' });

export const transitionParams = pipelineParams.extend({ stage: z.string().min(1).max(100) });
export const transitionBody = z
  .object({ enabled: z.boolean(), reason: z.string().trim().min(1).max(1000).optional() })
  .strict()
  .refine((b) => b.enabled || b.reason !== undefined, { path: ['reason'], message: 'a reason is required to disable' })
  .meta({ id: 'TransitionRequest' });

const transitionSchema = z.object({
  enabled: z.boolean(),
  reason: z.string().nullable(),
  by: z.string().nullable(),
  at: z.string().nullable(),
});
export const stageStateSchema = z
  .object({
    name: z.string(),
    transition: transitionSchema,
    concurrency: z.number().int().meta({ description: 'How many executions may hold the stage at once' }),
    lockedBy: z.string().nullable().meta({ description: 'The oldest holder (with concurrency 1, the only one)' }),
    holders: z.array(z.string()).meta({ description: 'Every execution holding the stage, in entry order' }),
    window: z
      .object({ reason: z.string(), opensAt: z.string().nullable() })
      .nullable()
      .meta({ description: 'Shut by its windows or a freeze: why, and when it opens' }),
    inbound: z.array(
      z.object({
        executionId: z.string(),
        status: z.literal('InProgress'),
        waitingFor: z.enum(['STAGE_LOCK', 'TRANSITION', 'WINDOW']),
      }),
    ),
    latestExecution: z.object({ executionId: z.string(), status: z.string() }).nullable(),
  })
  .meta({ id: 'StageState' });
export const pipelineStateSchema = z
  .object({
    name: z.string(),
    executionMode: z.enum(['SUPERSEDED', 'QUEUED', 'PARALLEL']),
    version: z.number().int(),
    stages: z.array(stageStateSchema),
  })
  .meta({ id: 'PipelineState' });

export const stopBody = z
  .object({
    abandon: z.boolean().default(false),
    reason: z.string().trim().min(1).max(1000).optional(),
    abandonAfterSeconds: z
      .number()
      .int()
      .min(1)
      .max(MAX_ABANDON_AFTER_SECONDS)
      .optional()
      .meta({ description: 'Stop and wait, then abandon the actions still running this many seconds later' }),
  })
  .strict()
  .refine((b) => !(b.abandon && b.abandonAfterSeconds !== undefined), {
    path: ['abandonAfterSeconds'],
    message: 'only with "abandon": false (stop and wait, abandoning later); "abandon": true abandons at once',
  })
  .meta({ id: 'StopRequest' });

export const windowPassBody = z
  .object({ stage: z.string().min(1).max(100), reason: z.string().trim().min(1).max(1000) })
  .strict()
  .meta({ id: 'WindowPassRequest' });

export const retryBody = z
  .object({ stage: z.string().min(1).max(100), mode: z.enum(['FAILED_ACTIONS', 'ALL_ACTIONS']) })
  .strict()
  .meta({ id: 'RetryRequest' });

export const decisionResult = z
  .object({ executionId: z.string(), status: z.enum(EXECUTION_STATUSES) })
  .meta({ id: 'DecisionResult' });

const stepRef = { stage: z.string().min(1).max(100), action: z.string().min(1).max(100) };
const comment = z.string().max(4000).optional();
export const approvalBody = z
  .object({ ...stepRef, decision: z.enum(['approve', 'reject']), comment })
  .strict()
  .meta({ id: 'ApprovalRequest' });
export const resumeBody = z
  .object({ ...stepRef, comment })
  .strict()
  .meta({ id: 'ResumeRequest' });
export const trapBody = z
  .object({ ...stepRef, decision: z.enum(['retry', 'skip', 'abort']), comment })
  .strict()
  .meta({ id: 'TrapRequest' });

export const talkbackBody = z
  .object({ name: z.string().min(1).max(100) })
  .strict()
  .meta({ id: 'TalkbackRequest' });

export const annotationBody = z
  .object({ kind: z.enum(['comment', 'log', 'other']), text: z.string().min(1).max(65_536) })
  .strict()
  .meta({ id: 'AnnotationRequest' });
export const attachmentFields = z.object({ text: z.string().max(65_536).optional() }).strict();

export const annotationSchema = z
  .object({
    id: z.string(),
    kind: z.enum(['comment', 'log', 'other', 'attachment', 'chat']),
    text: z.string().optional(),
    file: z.object({ name: z.string(), size: z.number().int(), sha256: z.string(), url: z.string() }).optional(),
    by: z.string(),
    at: z.string(),
    /** Chat annotations: who said it in Slack, in which channel, and the message's timestamp. */
    slack: z.object({ user: z.string(), channel: z.string(), ts: z.string() }).optional(),
  })
  .meta({ id: 'Annotation' });

export const timelineEntrySchema = z
  .object({
    at: z.string(),
    type: z.string(),
    stage: z.string().optional(),
    action: z.string().optional(),
    by: z.string().optional(),
    text: z.string().optional(),
    annotationId: z.string().optional(),
  })
  .meta({ id: 'TimelineEntry' });

/** A named lock (`GET /locks`, `GET /locks/:name`): its order, holders and waiters, and its fencing token. */
export const lockSchema = z
  .object({
    name: z.string(),
    order: z.enum(LOCK_ORDERS),
    /** Declared in the config's `locks` (false: no longer declared, but still held or waited for). */
    declared: z.boolean(),
    description: z.string().nullable(),
    /** The last fencing token given out (0: never granted). */
    token: z.number().int(),
    holders: z.array(
      z.object({
        executionId: z.string(),
        stage: z.string(),
        mode: z.enum(LOCK_MODES),
        token: z.number().int(),
        since: z.string(),
      }),
    ),
    waiters: z.array(
      z.object({
        executionId: z.string(),
        stage: z.string(),
        mode: z.enum(LOCK_MODES),
        since: z.string(),
        position: z.number().int(),
        with: z.array(z.string()).meta({ description: 'The other locks it takes at the same time' }),
      }),
    ),
  })
  .meta({ id: 'Lock' });
export type LockInfo = z.output<typeof lockSchema>;
export const lockList = z.object({ locks: z.array(lockSchema) }).meta({ id: 'Locks' });
export const lockParams = z.object({ name: lockSchemas().lockName });

/** `GET /me`: who the token (or the console's session) is. */
export const meSchema = z
  .object({ name: z.string(), roles: z.array(z.enum(['viewer', 'operator', 'admin'])), groups: z.array(z.string()) })
  .meta({ id: 'Me' });

/** A manual step waiting for people, which the caller may decide now. */
export const pendingDecisionSchema = z
  .object({
    executionId: z.string(),
    pipeline: z.string(),
    stage: z.string(),
    action: z.string(),
    kind: z.enum(['approval', 'resume', 'trap']),
    since: z.string().nullable(),
    expiresAt: z.string().nullable(),
    message: z.string().nullable(),
    url: z.string().nullable(),
    approvals: z.object({ count: z.number().int(), required: z.number().int() }).nullable(),
  })
  .meta({ id: 'PendingDecision' });
export type PendingDecisionSummary = z.infer<typeof pendingDecisionSchema>;

/** `GET /waiting`: everything the caller may decide now, oldest first. */
export const waitingResult = z.object({ decisions: z.array(pendingDecisionSchema) }).meta({ id: 'Waiting' });
