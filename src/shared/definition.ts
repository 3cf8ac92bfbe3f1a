/**
 * The pipeline definition format (CONTRACT.md section 2). This is the one place it is described: request
 * validation, the OpenAPI document and the TypeScript types all come from these schemas.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { clashingLockNames, lockSchemas, MAX_STAGE_LOCKS } from './named-locks.js';
import { forbiddenVariableReason } from './variables.js';
import { once } from './once.js';

const PIPELINE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const STEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
/** Environment variable names: what a POSIX shell accepts. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const DAY = 86_400;
/** The most slots a stage may have (`concurrency`). */
export const MAX_CONCURRENCY = 100;
const MAX_SECONDS = 365 * DAY;

const uniqueNames = (items: { name: string }[], ctx: z.RefinementCtx, what: string) => {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate ${what} name "${item.name}"` });
    }
    seen.add(item.name);
  });
};

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
/** A calendar date, `YYYY-MM-DD`, that exists (not zod's `iso.date()`: see `definitionSchemas`). */
const isDate = (date: string) => {
  const at = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
  return !Number.isNaN(at) && new Date(at).toISOString().startsWith(date);
};
const isTimeZone = (timeZone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
};

/**
 * The schemas, built on first use and held here rather than exported as objects. The workflow threads share
 * this module (workflows/preload.ts) and the SDK deep-freezes what a shared module exports, while a zod
 * schema finishes setting itself up on first use: exported, it would be frozen half-built. For the same
 * reason no regular expression a schema uses is exported (zod resets a pattern's `lastIndex`), and holidays
 * are checked here rather than with zod's `iso.date()`, whose pattern zod exports.
 */
export const definitionSchemas = once(buildDefinitionSchemas);

type DefinitionSchemas = ReturnType<typeof buildDefinitionSchemas>;

function buildDefinitionSchemas() {
  const pipelineNameSchema = z
    .string()
    .regex(PIPELINE_NAME, 'lowercase letters, digits and hyphens, starting with a letter or digit, at most 63');
  const stepName = z
    .string()
    .regex(STEP_NAME, 'letters, digits, "_", "." and "-", starting with a letter or digit, at most 100');
  const seconds = z.number().int().positive().max(MAX_SECONDS);

  const variablesSchema = z
    .record(z.string().regex(VARIABLE_NAME, 'a shell variable name'), z.string().max(32_768))
    .refine((v) => Object.keys(v).length <= 200, 'at most 200 variables')
    .superRefine((v, ctx) => {
      for (const name of Object.keys(v)) {
        const reason = forbiddenVariableReason(name);
        if (reason) ctx.addIssue({ code: 'custom', path: [name], message: reason });
      }
    });

  /** The name of a secret defined where the workers run; it becomes the command's environment variable. */
  const secretNameSchema = z
    .string()
    .regex(VARIABLE_NAME, 'a shell variable name')
    .superRefine((name, ctx) => {
      const reason = forbiddenVariableReason(name);
      if (reason) ctx.addIssue({ code: 'custom', message: reason });
    });

  /** The secrets a script asks for, by name (their values never appear in a definition). */
  const secretNamesSchema = z
    .array(secretNameSchema)
    .max(20)
    .superRefine((names, ctx) => {
      names.forEach((name, i) => {
        if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${name}" twice` });
      });
    });

  const principalsSchema = z
    .object({
      users: z.array(z.string().min(1)).default([]),
      groups: z.array(z.string().min(1)).default([]),
    })
    .strict();

  const actionBase = {
    name: stepName,
    runOrder: z.number().int().min(1).max(999).default(1),
  };

  const commandActionSchema = z
    .object({
      ...actionBase,
      type: z.literal('command'),
      run: z.string().min(1).max(65_536),
      timeoutSeconds: seconds.default(3600),
      rollback: z.string().min(1).max(65_536).optional(),
      onError: z.enum(['fail', 'trap', 'ignore']).default('fail'),
      trapTimeoutSeconds: seconds.default(DAY),
      /**
       * When the worker running it is lost (killed, cut off from Temporal, shut down past its grace period):
       * `fail` (the action fails with "worker lost"; `onError` applies) or `rerun` (it runs again on a live
       * worker once the old run is known dead, at most twice).
       */
      onWorkerLoss: z.enum(['fail', 'rerun']).default('fail'),
      /**
       * Secrets configured on the workers that the command (and its rollback) receives as environment
       * variables; their values are masked in its log.
       */
      secrets: secretNamesSchema.optional(),
    })
    .strict();

  const approvalActionSchema = z
    .object({
      ...actionBase,
      type: z.literal('approval'),
      approvers: principalsSchema,
      required: z.number().int().min(1).max(50).default(1),
      allowSelfApproval: z.boolean().default(false),
      timeoutSeconds: seconds.default(7 * DAY),
      message: z.string().max(4096).optional(),
      url: z.url().optional(),
    })
    .strict();

  const pauseActionSchema = z
    .object({
      ...actionBase,
      type: z.literal('pause'),
      timeoutSeconds: seconds.default(DAY),
      allowed: principalsSchema.optional(),
      message: z.string().max(4096).optional(),
    })
    .strict();

  const waitActionSchema = z
    .object({
      ...actionBase,
      type: z.literal('wait'),
      seconds: seconds,
    })
    .strict();

  const actionSchema = z.discriminatedUnion('type', [
    commandActionSchema,
    approvalActionSchema,
    pauseActionSchema,
    waitActionSchema,
  ]);

  /** When a stage may be entered (local time in `timeZone`, which follows daylight saving). */
  const windowSchema = z
    .object({
      days: z
        .array(z.enum(['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']))
        .min(1)
        .max(7)
        .optional(),
      from: z.string().regex(HHMM, '"HH:MM", 00:00 to 23:59'),
      to: z.string().regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, '"HH:MM", 00:01 to 24:00'),
      timeZone: z.string().refine(isTimeZone, 'an IANA time zone, such as "Europe/Madrid" or "UTC"'),
      /** Local dates on which the window stays shut. */
      holidays: z.array(z.string().refine(isDate, 'a date, YYYY-MM-DD')).max(366).optional(),
    })
    .strict()
    // Only once both read as times ("HH:MM" compares as text then); otherwise their own errors say why.
    .refine((w) => !/^\d\d:\d\d$/.test(w.from) || !/^\d\d:\d\d$/.test(w.to) || w.from < w.to, {
      path: ['to'],
      message: 'must be later than "from" (same day)',
    });

  /** A change freeze: no stage is entered between `from` and `to`. */
  const freezeSchema = z
    .object({
      from: z.iso.datetime({ offset: true }),
      to: z.iso.datetime({ offset: true }),
      reason: z.string().min(1).max(1000),
    })
    .strict()
    // (Unreadable instants compare false here: their own errors say why.)
    .refine((f) => !(Date.parse(f.from) >= Date.parse(f.to)), { path: ['to'], message: 'must be later than "from"' });

  const stageSchema = z
    .object({
      name: stepName,
      /**
       * How many executions may be in the stage at once (QUEUED and SUPERSEDED pipelines): a pool of slots;
       * those waiting for one queue or supersede as the mode says. Absent: 1.
       */
      concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).optional(),
      /** When the stage may be entered; outside them arrivals wait (`for: "WINDOW"`). Absent: any time. */
      windows: z.array(windowSchema).min(1).max(20).optional(),
      /**
       * Named locks shared with other pipelines (declared in the config's `locks`), taken all at once after the
       * stage's own lock and held until the stage is left: `"env:prod"` (exclusive) or `{ name, mode: "shared" }`.
       */
      locks: z
        .array(lockSchemas().stageLock)
        .min(1)
        .max(MAX_STAGE_LOCKS)
        .superRefine((locks, ctx) => {
          const names = locks.map((l) => (typeof l === 'string' ? l : l.name));
          for (const { index, message } of clashingLockNames(names, 'named twice')) {
            ctx.addIssue({ code: 'custom', path: [index], message });
          }
        })
        .optional(),
      actions: z
        .array(actionSchema)
        .min(1)
        .max(100)
        .superRefine((a, ctx) => uniqueNames(a, ctx, 'action')),
    })
    .strict();

  /** CHECK runs before the execution exists, so only commands make sense there (Clarive). */
  const checkActionSchema = z.discriminatedUnion('type', [commandActionSchema], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'only "command" actions are allowed in check (it runs before the execution exists)'
        : undefined,
  });

  /** Standard five-field cron (minute hour day-of-month month day-of-week), evaluated in UTC by Temporal. */
  const cronSchema = z
    .string()
    .max(200)
    .superRefine((cron, ctx) => {
      if (cron.trim().split(/\s+/).length !== 5) {
        ctx.addIssue({ code: 'custom', message: 'five fields: minute hour day-of-month month day-of-week' });
        return;
      }
      try {
        CronExpressionParser.parse(cron);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `not a valid cron expression: ${(err as Error).message}` });
      }
    });

  const triggerSchema = z
    .object({
      type: z.literal('schedule'),
      cron: cronSchema,
    })
    .strict();

  const pipelineDefinitionSchema = z
    .object({
      name: pipelineNameSchema,
      description: z.string().max(4096).optional(),
      executionMode: z.enum(['SUPERSEDED', 'QUEUED', 'PARALLEL']).default('SUPERSEDED'),
      variables: variablesSchema.default({}),
      rollbackOnFailure: z.boolean().default(false),
      /** How long a failed or stopped execution can be retried; then its workflow ends. */
      retryWindowSeconds: seconds.default(7 * DAY),
      check: z
        .array(checkActionSchema)
        .max(50)
        .default([])
        .superRefine((a, ctx) => uniqueNames(a, ctx, 'check')),
      stages: z
        .array(stageSchema)
        .min(1)
        .max(50)
        .superRefine((s, ctx) => uniqueNames(s, ctx, 'stage')),
      triggers: z.array(triggerSchema).max(10).default([]),
      /** Change freezes: while one lasts, no stage of the pipeline is entered (`for: "WINDOW"`). */
      freezes: z.array(freezeSchema).max(100).optional(),
    })
    .strict()
    .superRefine((p, ctx) => {
      if (p.executionMode !== 'PARALLEL') return;
      p.stages.forEach((stage, i) => {
        if (stage.concurrency === undefined) return;
        const message = 'PARALLEL stages have no lock, so no concurrency; it applies to QUEUED and SUPERSEDED';
        ctx.addIssue({ code: 'custom', path: ['stages', i, 'concurrency'], message });
      });
    })
    .meta({ id: 'PipelineDefinition' });

  return {
    pipelineName: pipelineNameSchema,
    stepName,
    variables: variablesSchema,
    secretName: secretNameSchema,
    secretNames: secretNamesSchema,
    commandAction: commandActionSchema,
    approvalAction: approvalActionSchema,
    pauseAction: pauseActionSchema,
    waitAction: waitActionSchema,
    action: actionSchema,
    window: windowSchema,
    freeze: freezeSchema,
    stage: stageSchema,
    trigger: triggerSchema,
    pipelineDefinition: pipelineDefinitionSchema,
  };
}

/** A definition as the user wrote it (defaults not yet applied). */
export type PipelineDefinitionInput = z.input<DefinitionSchemas['pipelineDefinition']>;
/** A validated definition, with every default filled in. This is what workflows receive. */
export type PipelineDefinition = z.output<DefinitionSchemas['pipelineDefinition']>;
export type Stage = PipelineDefinition['stages'][number];
export type Action = Stage['actions'][number];
export type CommandAction = z.output<DefinitionSchemas['commandAction']>;
export type ApprovalAction = z.output<DefinitionSchemas['approvalAction']>;
export type PauseAction = z.output<DefinitionSchemas['pauseAction']>;
export type ActionType = Action['type'];
export type ExecutionMode = PipelineDefinition['executionMode'];
export type DeploymentWindowDefinition = z.output<DefinitionSchemas['window']>;
export type FreezeDefinition = z.output<DefinitionSchemas['freeze']>;
export type Variables = Record<string, string>;
