/**
 * The payload of every signal and Update Paso's workflows take, as zod schemas. Anyone with access to
 * Temporal can send them (the CLI, the UI's "Send Signal"), so workflows check each payload before they read
 * it: a bad signal is dropped and logged, a bad Update is refused with the path of what is wrong. A handler
 * that read a malformed payload unchecked would fail its workflow task, retried forever, with the lock held.
 * Schemas are loose about extra fields, so a newer gateway may send an older worker more than it reads.
 */
import { z } from 'zod';
import { definitionSchemas } from './definition.js';
import { parseExecutionId } from './execution.js';
import { LOCK_MODES, LOCK_ORDERS, lockSchemas, MAX_STAGE_LOCKS } from './named-locks.js';
import { once } from './once.js';
import type {
  AcquireLocksInput,
  AdvanceExecutionsInput,
  AllocateExecutionInput,
  AllocateExecutionsInput,
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
import { MAX_ALLOCATIONS_PER_UPDATE } from './messages.js';
import { formatPath } from './validation.js';

/** The longest a stop and wait may wait before it abandons (`abandonAfterSeconds`): 7 days. */
export const MAX_ABANDON_AFTER_SECONDS = 7 * 86_400;

/** Pieces several messages share. */
function buildParts() {
  const text = z.string().min(1).max(1000);
  const by = z.string().min(1).max(200);
  return {
    text,
    by,
    executionId: z.string().refine((id) => parseExecutionId(id) !== null, 'an execution id (<pipeline>-<n>)'),
    comment: z.string().max(4000).optional(),
    decider: { by, groups: z.array(text).max(100).optional(), roles: z.array(text).max(10).optional() },
    step: { stage: text, action: text },
    lockName: lockSchemas().lockName,
    /** How an execution left a stage (`leaveStage`, and `requestStage` leaving one as it asks for the next). */
    leaveOutcome: z.enum(['Succeeded', 'Failed', 'Stopped']),
  };
}

const parts = once(buildParts);
type Parts = ReturnType<typeof buildParts>;

/** One trigger's request for an execution id, alone (`allocateExecution`) or in a batch. */
const allocationRequest = ({ by }: Parts) =>
  z.object({
    by,
    idempotencyKey: z.string().min(1).max(200).optional(),
    requestDigest: z.string().min(1).max(200),
  }) satisfies z.ZodType<AllocateExecutionInput>;

const messageSchemaBuilders = {
  // execution
  approve: ({ step, decider, comment }: Parts) =>
    z.object({
      ...step,
      ...decider,
      decision: z.enum(['approve', 'reject']),
      comment,
    }) satisfies z.ZodType<ApprovalDecision>,
  resume: ({ step, decider, comment }: Parts) =>
    z.object({ ...step, ...decider, comment }) satisfies z.ZodType<ResumeDecision>,
  trap: ({ step, decider, comment }: Parts) =>
    z.object({
      ...step,
      ...decider,
      decision: z.enum(['retry', 'skip', 'abort']),
      comment,
    }) satisfies z.ZodType<TrapDecision>,
  stop: ({ by }: Parts) =>
    z.object({
      abandon: z.boolean(),
      reason: z.string().max(1000).optional(),
      by,
      abandonAfterSeconds: z.number().int().positive().max(MAX_ABANDON_AFTER_SECONDS).optional(),
    }) satisfies z.ZodType<StopInput>,
  retry: ({ text, by }: Parts) =>
    z.object({ stage: text, mode: z.enum(['FAILED_ACTIONS', 'ALL_ACTIONS']), by }) satisfies z.ZodType<RetryInput>,
  bindChannel: ({ text, by }: Parts) =>
    z.object({ channel: text, name: text, by }) satisfies z.ZodType<BindChannelInput>,
  runTalkback: ({ text, by }: Parts) =>
    z.object({
      name: text,
      run: z.string().min(1).max(65_536),
      timeoutSeconds: z.number().int().positive().max(86_400),
      by,
      secrets: z.array(text).max(20).optional(),
    }) satisfies z.ZodType<RunTalkbackInput>,
  stageGranted: ({ text, by }: Parts) =>
    z.object({
      stage: text,
      pass: z.object({ by, reason: text, at: text }).optional(),
    }) satisfies z.ZodType<StageGrantedInput>,
  stageWait: ({ text }: Parts) =>
    z.object({
      stage: text,
      for: z.enum(['STAGE_LOCK', 'TRANSITION', 'WINDOW']),
      opensAt: z.string().max(100).nullable().optional(),
    }) satisfies z.ZodType<StageWaitInput>,
  superseded: ({ text }: Parts) => z.object({ stage: text, by: text.nullable() }) satisfies z.ZodType<SupersededInput>,
  overtaken: ({ text }: Parts) => z.object({ stage: text, by: text }) satisfies z.ZodType<OvertakenInput>,
  transitionClosed: ({ text }: Parts) => z.object({ stage: text }) satisfies z.ZodType<TransitionClosedInput>,
  // coordinator
  putDefinition: () => z.object({ definition: definitionSchemas().pipelineDefinition, by: z.string().max(200) }),
  allocateExecution: (parts: Parts) => allocationRequest(parts),
  allocateExecutions: (parts: Parts) =>
    z.object({
      requests: z.array(allocationRequest(parts)).min(1).max(MAX_ALLOCATIONS_PER_UPDATE),
    }) satisfies z.ZodType<AllocateExecutionsInput>,
  deletePipeline: ({ by }: Parts) => z.object({ by }) satisfies z.ZodType<DeletePipelineInput>,
  advanceExecutions: () =>
    z.object({
      atLeast: z.number().int().min(0).max(1e15),
    }) satisfies z.ZodType<AdvanceExecutionsInput>,
  setTransition: ({ text, by }: Parts) =>
    z.object({
      stage: text,
      enabled: z.boolean(),
      reason: z.string().max(1000).optional(),
      by,
    }) satisfies z.ZodType<SetTransitionInput>,
  setConfigFreezes: ({ by }: Parts) =>
    z.object({
      freezes: z.array(definitionSchemas().freeze).max(100),
      by,
    }) satisfies z.ZodType<SetConfigFreezesInput>,
  passWindow: ({ text, by, executionId }: Parts) =>
    z.object({ executionId, stage: text, reason: text, by }) satisfies z.ZodType<PassWindowInput>,
  requestStage: ({ text, executionId, leaveOutcome }: Parts) =>
    z.object({
      executionId,
      stage: text,
      retry: z.boolean().optional(),
      leaving: z.object({ stage: text, outcome: leaveOutcome }).optional(),
    }) satisfies z.ZodType<RequestStageInput>,
  leaveStage: ({ text, executionId, leaveOutcome }: Parts) =>
    z.object({
      executionId,
      stage: text,
      outcome: leaveOutcome,
    }) satisfies z.ZodType<LeaveStageInput>,
  withdraw: ({ executionId }: Parts) => z.object({ executionId }) satisfies z.ZodType<WithdrawInput>,
  // named locks
  acquireLocks: ({ text, executionId, lockName }: Parts) =>
    z.object({
      executionId,
      stage: text,
      createdAt: z.iso.datetime({ offset: true }),
      locks: z
        .array(z.object({ name: lockName, mode: z.enum(LOCK_MODES), order: z.enum(LOCK_ORDERS) }))
        .min(1)
        .max(MAX_STAGE_LOCKS)
        .refine((l) => new Set(l.map((x) => x.name)).size === l.length, 'each lock once'),
    }) satisfies z.ZodType<AcquireLocksInput>,
  releaseLocks: ({ text, executionId }: Parts) =>
    z.object({ executionId, stage: text.optional() }) satisfies z.ZodType<ReleaseLocksInput>,
  // execution, from the named locks
  locksGranted: ({ text, lockName }: Parts) =>
    z.object({
      stage: text,
      tokens: z.record(lockName, z.number().int().positive()),
    }) satisfies z.ZodType<LocksGrantedInput>,
  locksWait: ({ text, lockName }: Parts) =>
    z.object({
      stage: text,
      lock: lockName,
      heldBy: z.array(text).max(1000),
    }) satisfies z.ZodType<LocksWaitInput>,
  lockSuperseded: ({ text, lockName }: Parts) =>
    z.object({ stage: text, lock: lockName, by: text }) satisfies z.ZodType<LockSupersededInput>,
};

export type MessageName = keyof typeof messageSchemaBuilders;
/** Every kind of message, for the workflow threads' warm-up (`workflows/preload.ts`). */
export const MESSAGE_NAMES = Object.keys(messageSchemaBuilders) as MessageName[];
type MessageSchema<N extends MessageName> = ReturnType<(typeof messageSchemaBuilders)[N]>;

/**
 * Each schema is built the first time its message is checked (the workflow threads' warm-up builds them
 * all) and held here, not exported: the workflow threads share this module and the SDK freezes what it
 * exports, while a zod schema finishes setting itself up on first use (see `definitionSchemas`).
 */
const built: { [N in MessageName]?: MessageSchema<N> } = {};

function schemaOf<N extends MessageName>(name: N): MessageSchema<N> {
  const schema = (built[name] ??= messageSchemaBuilders[name](parts()) as (typeof built)[N]);
  return schema as MessageSchema<N>;
}

/** The payload, parsed, or the problems with it (`path: message`, every one). */
export function checkMessage<N extends MessageName>(
  name: N,
  payload: unknown,
): { ok: true; value: z.output<MessageSchema<N>> } | { ok: false; problems: string } {
  const result = (schemaOf(name) as z.ZodType).safeParse(payload);
  if (result.success) return { ok: true, value: result.data as z.output<MessageSchema<N>> };
  const problems = result.error.issues.map((i) => `${formatPath(i.path) || '(payload)'}: ${i.message}`).join('; ');
  return { ok: false, problems: `invalid ${name} payload: ${problems}` };
}
