/**
 * The payload of every signal and Update Paso's workflows take, as zod schemas. Anyone with access to
 * Temporal can send them (the CLI, the UI's "Send Signal"), so workflows check each payload before they read
 * it: a bad signal is dropped and logged, a bad Update is refused with the path of what is wrong. A handler
 * that read a malformed payload unchecked would fail its workflow task, retried forever, with the lock held.
 * Schemas are loose about extra fields, so a newer gateway may send an older worker more than it reads.
 */
import { z } from 'zod';
import { freezeSchema, pipelineDefinitionSchema } from './definition.js';
import { parseExecutionId } from './execution.js';
import { LOCK_MODES, LOCK_ORDERS, lockNameSchema, MAX_STAGE_LOCKS } from './named-locks.js';
import type {
  AcquireLocksInput,
  AdvanceExecutionsInput,
  AllocateExecutionInput,
  ApprovalDecision,
  BindChannelInput,
  DeletePipelineInput,
  LeaveStageInput,
  LocksGrantedInput,
  LockSupersededInput,
  LocksWaitInput,
  OvertakenInput,
  PassWindowInput,
  ReleaseLocksInput,
  RequestStageInput,
  ResumeDecision,
  RetryInput,
  RunTalkbackInput,
  SetConfigFreezesInput,
  SetTransitionInput,
  StageGrantedInput,
  StageWaitInput,
  StopInput,
  SupersededInput,
  TransitionClosedInput,
  TrapDecision,
  WithdrawInput,
} from './messages.js';
import { formatPath } from './validation.js';

/** The longest a stop and wait may wait before it abandons (`abandonAfterSeconds`): 7 days. */
export const MAX_ABANDON_AFTER_SECONDS = 7 * 86_400;

const text = z.string().min(1).max(1000);
const executionId = z.string().refine((id) => parseExecutionId(id) !== null, 'an execution id (<pipeline>-<n>)');
const by = z.string().min(1).max(200);
const comment = z.string().max(4000).optional();
const decider = { by, groups: z.array(text).max(100).optional(), roles: z.array(text).max(10).optional() };
const step = { stage: text, action: text };

export const messageSchemas = {
  // execution
  approve: z.object({
    ...step,
    ...decider,
    decision: z.enum(['approve', 'reject']),
    comment,
  }) satisfies z.ZodType<ApprovalDecision>,
  resume: z.object({ ...step, ...decider, comment }) satisfies z.ZodType<ResumeDecision>,
  trap: z.object({
    ...step,
    ...decider,
    decision: z.enum(['retry', 'skip', 'abort']),
    comment,
  }) satisfies z.ZodType<TrapDecision>,
  stop: z.object({
    abandon: z.boolean(),
    reason: z.string().max(1000).optional(),
    by,
    abandonAfterSeconds: z.number().int().positive().max(MAX_ABANDON_AFTER_SECONDS).optional(),
  }) satisfies z.ZodType<StopInput>,
  retry: z.object({ stage: text, mode: z.enum(['FAILED_ACTIONS', 'ALL_ACTIONS']), by }) satisfies z.ZodType<RetryInput>,
  bindChannel: z.object({ channel: text, name: text, by }) satisfies z.ZodType<BindChannelInput>,
  runTalkback: z.object({
    name: text,
    run: z.string().min(1).max(65_536),
    timeoutSeconds: z.number().int().positive().max(86_400),
    by,
    secrets: z.array(text).max(20).optional(),
  }) satisfies z.ZodType<RunTalkbackInput>,
  stageGranted: z.object({
    stage: text,
    pass: z.object({ by, reason: text, at: text }).optional(),
  }) satisfies z.ZodType<StageGrantedInput>,
  stageWait: z.object({
    stage: text,
    for: z.enum(['STAGE_LOCK', 'TRANSITION', 'WINDOW']),
    opensAt: z.string().max(100).nullable().optional(),
  }) satisfies z.ZodType<StageWaitInput>,
  superseded: z.object({ stage: text, by: text.nullable() }) satisfies z.ZodType<SupersededInput>,
  overtaken: z.object({ stage: text, by: text }) satisfies z.ZodType<OvertakenInput>,
  transitionClosed: z.object({ stage: text }) satisfies z.ZodType<TransitionClosedInput>,
  // coordinator
  putDefinition: z.object({ definition: pipelineDefinitionSchema, by: z.string().max(200) }),
  allocateExecution: z.object({
    by,
    idempotencyKey: z.string().min(1).max(200).optional(),
    requestDigest: z.string().min(1).max(200),
  }) satisfies z.ZodType<AllocateExecutionInput>,
  deletePipeline: z.object({ by }) satisfies z.ZodType<DeletePipelineInput>,
  advanceExecutions: z.object({
    atLeast: z.number().int().min(0).max(1e15),
  }) satisfies z.ZodType<AdvanceExecutionsInput>,
  setTransition: z.object({
    stage: text,
    enabled: z.boolean(),
    reason: z.string().max(1000).optional(),
    by,
  }) satisfies z.ZodType<SetTransitionInput>,
  setConfigFreezes: z.object({
    freezes: z.array(freezeSchema).max(100),
    by,
  }) satisfies z.ZodType<SetConfigFreezesInput>,
  passWindow: z.object({ executionId, stage: text, reason: text, by }) satisfies z.ZodType<PassWindowInput>,
  requestStage: z.object({
    executionId,
    stage: text,
    retry: z.boolean().optional(),
  }) satisfies z.ZodType<RequestStageInput>,
  leaveStage: z.object({
    executionId,
    stage: text,
    outcome: z.enum(['Succeeded', 'Failed', 'Stopped']),
  }) satisfies z.ZodType<LeaveStageInput>,
  withdraw: z.object({ executionId }) satisfies z.ZodType<WithdrawInput>,
  // named locks
  acquireLocks: z.object({
    executionId,
    stage: text,
    createdAt: z.iso.datetime({ offset: true }),
    locks: z
      .array(z.object({ name: lockNameSchema, mode: z.enum(LOCK_MODES), order: z.enum(LOCK_ORDERS) }))
      .min(1)
      .max(MAX_STAGE_LOCKS)
      .refine((l) => new Set(l.map((x) => x.name)).size === l.length, 'each lock once'),
  }) satisfies z.ZodType<AcquireLocksInput>,
  releaseLocks: z.object({ executionId, stage: text.optional() }) satisfies z.ZodType<ReleaseLocksInput>,
  // execution, from the named locks
  locksGranted: z.object({
    stage: text,
    tokens: z.record(lockNameSchema, z.number().int().positive()),
  }) satisfies z.ZodType<LocksGrantedInput>,
  locksWait: z.object({
    stage: text,
    lock: lockNameSchema,
    heldBy: z.array(text).max(1000),
  }) satisfies z.ZodType<LocksWaitInput>,
  lockSuperseded: z.object({ stage: text, lock: lockNameSchema, by: text }) satisfies z.ZodType<LockSupersededInput>,
};

export type MessageName = keyof typeof messageSchemas;

/** The payload, parsed, or the problems with it (`path: message`, every one). */
export function checkMessage<N extends MessageName>(
  name: N,
  payload: unknown,
): { ok: true; value: z.output<(typeof messageSchemas)[N]> } | { ok: false; problems: string } {
  const result = messageSchemas[name].safeParse(payload);
  if (result.success) return { ok: true, value: result.data as z.output<(typeof messageSchemas)[N]> };
  const problems = result.error.issues.map((i) => `${formatPath(i.path) || '(payload)'}: ${i.message}`).join('; ');
  return { ok: false, problems: `invalid ${name} payload: ${problems}` };
}
