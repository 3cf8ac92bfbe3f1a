/**
 * Paso's configuration: the environment (CONTRACT.md section 1) and the config file (users, tokens, roles,
 * groups, Slack, Talkback), parsed once into a frozen object. Invalid configuration stops the process with
 * every problem listed by path.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { definitionSchemas, type FreezeDefinition } from './shared/definition.js';
import { clashingLockNames, LOCK_ORDERS, lockSchemas } from './shared/named-locks.js';
import { DEFAULT_TASK_QUEUE } from './shared/temporal.js';
import { toFieldErrors } from './shared/validation.js';
import { LOG_LEVELS, type PasoLogLevel } from './log.js';

/**
 * A worker's sticky cache, in workflows (`PASO_MAX_CACHED_WORKFLOWS`): the figures behind the number are in
 * the README ("Tests and figures").
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** Running executions without `PasoWaiting` that `GET /waiting` also reads (`PASO_WAITING_SCAN`). */
export const DEFAULT_WAITING_SCAN = 500;

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const principals = z
  .object({ users: z.array(z.string()).default([]), groups: z.array(z.string()).default([]) })
  .strict();

const userSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/),
    token: z.string().min(8, 'tokens must be at least 8 characters').optional(),
    tokenSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'the hex SHA-256 of the token')
      .optional(),
    roles: z.array(z.enum(ROLES)).min(1),
    groups: z.array(z.string()).default([]),
    slack: z.string().optional(),
  })
  .strict()
  .refine((u) => (u.token === undefined) !== (u.tokenSha256 === undefined), 'give exactly one of token, tokenSha256');

const secretSchema = z
  .object({
    name: definitionSchemas().secretName,
    value: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
    pipelines: z.array(definitionSchemas().pipelineName).min(1).optional(),
  })
  .strict()
  .refine(
    (s) => [s.value, s.file, s.env].filter((x) => x !== undefined).length === 1,
    'give exactly one of value, file, env',
  );

const fileSchema = z
  .object({
    users: z
      .array(userSchema)
      .min(1)
      .superRefine((users, ctx) => {
        const names = new Set<string>();
        users.forEach((u, i) => {
          if (names.has(u.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'duplicate user' });
          names.add(u.name);
        });
      }),
    slack: z
      .object({
        signingSecret: z.string().min(1),
        botToken: z.string().min(1),
        apiUrl: z.url().default('https://slack.com/api'),
      })
      .strict()
      .optional(),
    notifications: z.object({ url: z.url() }).strict().optional(),
    talkback: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, "_", "." and "-"'),
            run: z.string().min(1),
            allowed: principals,
            /** The command is killed (SIGTERM, then SIGKILL) after this long. */
            timeoutSeconds: z.number().int().positive().max(86_400).default(600),
            secrets: definitionSchemas().secretNames.optional(),
          })
          .strict(),
      )
      .default([])
      .superRefine((items, ctx) => {
        const names = new Set<string>();
        items.forEach((t, i) => {
          if (names.has(t.name))
            ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'duplicate Talkback name' });
          names.add(t.name);
        });
      }),
    /** Change freezes of every pipeline: while one lasts, no stage of any pipeline is entered. */
    freezes: z.array(definitionSchemas().freeze).max(100).default([]),
    /** Named locks shared by every pipeline (stage `locks`): each declared once, with its order. */
    locks: z
      .array(
        z
          .object({
            name: lockSchemas().lockName,
            order: z.enum(LOCK_ORDERS).default('fifo'),
            description: z.string().max(1000).optional(),
          })
          .strict(),
      )
      .default([])
      .superRefine((items, ctx) => {
        const names = items.map((l) => l.name);
        for (const { index, message } of clashingLockNames(names, 'duplicate lock')) {
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message });
        }
      }),
    secrets: z
      .array(secretSchema)
      .default([])
      .superRefine((items, ctx) => {
        const names = new Set<string>();
        items.forEach((s, i) => {
          if (names.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'duplicate secret' });
          names.add(s.name);
        });
      }),
  })
  .strict()
  .superRefine((file, ctx) => {
    const known = new Set(file.secrets.map((s) => s.name));
    file.talkback.forEach((t, i) =>
      t.secrets?.forEach((name, j) => {
        if (!known.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['talkback', i, 'secrets', j],
            message: `no secret "${name}" is configured`,
          });
        }
      }),
    );
  });

export type LockDeclaration = z.output<typeof fileSchema>['locks'][number];

export interface User {
  name: string;
  /** Hex SHA-256 of the user's bearer token; the token itself is never kept. */
  tokenSha256: string;
  roles: readonly Role[];
  groups: readonly string[];
  slack?: string;
}

export interface PasoConfig {
  port: number;
  host: string;
  dataDir: string;
  /** Unset: `npm start` runs an embedded dev server. */
  temporalAddress: string | undefined;
  namespace: string;
  temporalPort: number;
  temporalUiPort: number;
  taskQueue: string;
  temporalCli: string | undefined;
  users: readonly User[];
  /** The built-in development users are in use (no config file); their tokens are printed at start. */
  devUsers: readonly { name: string; token: string; roles: readonly Role[] }[] | null;
  slack: z.output<typeof fileSchema>['slack'];
  talkback: z.output<typeof fileSchema>['talkback'];
  /** Secrets for commands: the worker reads their values when a command starts; the gateway only their names. */
  secrets: z.output<typeof fileSchema>['secrets'];
  /** Where manual steps are announced (HTTP POST of a JSON document), if anywhere. */
  notificationUrl: string | null;
  /** Change freezes of every pipeline (the config's `freezes`), beside each pipeline's own. */
  freezes: readonly FreezeDefinition[];
  /** The named locks stages may take, with their order; null (no config file): any name, in `fifo` order. */
  locks: readonly LockDeclaration[] | null;
  /** Allocation Updates a gateway keeps in flight per pipeline's coordinator (`PASO_UPDATES_IN_FLIGHT`). */
  updatesInFlight: number;
  /**
   * How many running executions without `PasoWaiting` `GET /waiting` also reads (`PASO_WAITING_SCAN`): those
   * that began waiting before executions said so. 0 once none of 0.5 or before can still be waiting.
   */
  waitingScan: number;
  /** Signs the console's session cookies; every gateway behind one address needs the same. Unset: made at start. */
  sessionSecret: string | undefined;
  /** The Temporal Web UI, for the console's links to workflows (PASO_TEMPORAL_UI_URL; the dev server's own). */
  temporalUiUrl: string | null;
  /** The gateway's address as people reach it, for links in notifications. */
  publicUrl: string;
  configFile: string | undefined;
  /** Where this worker keeps executions' workspaces (`$PASO_DATA_DIR/workspaces` unless set). */
  workspaceDir: string;
  /** How long a worker told to stop (SIGTERM) lets running commands finish before it kills them. */
  shutdownGraceSeconds: number;
  /**
   * Workflows a worker keeps in memory between their workflow tasks (`PASO_MAX_CACHED_WORKFLOWS`). One that
   * leaves the cache is replayed from its history when it next has work: more memory against fewer replays.
   */
  maxCachedWorkflows: number;
  /**
   * Workflow code on this worker takes stack traces (`PASO_WORKFLOW_STACK_TRACES`, default off): Temporal's
   * stack trace query answers, and errors in workflow code carry their stacks, at a cost in CPU for every
   * promise a workflow makes (see `workflows/no-stack-traces.ts`).
   */
  workflowStackTraces: boolean;
  /**
   * Temporal's heartbeat timeout for commands: a worker silent this long is taken for lost. A worker kills
   * its commands after three quarters of it without reaching Temporal (fencing), so an outage of Temporal or of
   * the network shorter than that changes nothing for running commands.
   */
  heartbeatTimeoutSeconds: number;
  /** A workspace is deleted this long after its execution ended. */
  workspaceRetentionHours: number;
  /** The most output one run of a command keeps in its log; the rest is dropped, with a line saying so. */
  logLimitBytes: number;
  /** PostgreSQL for logs, annotations and attachments; unset: files under the data directory. */
  databaseUrl: string | undefined;
  /** Failed authentications an address may make per minute (in a burst) before it is answered 429; 0: no limit. */
  authFailuresPerMinute: number;
  /** Express's `trust proxy` (e.g. `loopback`, `10.0.0.0/8`, a hop count): whose X-Forwarded-For gives the client. */
  trustProxy: string | undefined;
  /** pino's level for the process's logs (`PASO_LOG_LEVEL`). */
  logLevel: PasoLogLevel;
  /** A worker's own `GET /metrics` port (`PASO_METRICS_PORT`); unset: none (the gateway serves its own). */
  metricsPort: number | undefined;
  /**
   * Where the Temporal SDK runtime of a worker serves its Prometheus metrics (`PASO_SDK_METRICS_PORT`, on
   * PASO_HOST); unset: a free loopback port. Either way they are also copied into Paso's `/metrics`.
   */
  sdkMetricsPort: number | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Development users for the embedded default only: never used when a config file or a real cluster is. */
export const DEV_USERS = [
  { name: 'alice', token: 'dev-alice-token', roles: ['admin'] as Role[], groups: ['release-managers'] },
  { name: 'bob', token: 'dev-bob-token', roles: ['operator'] as Role[], groups: ['release-managers'] },
  { name: 'carol', token: 'dev-carol-token', roles: ['viewer'] as Role[], groups: [] },
];

/**
 * The development users' tokens are printed at start and written in the README: they may serve only the
 * embedded default on this machine. The gateway refuses them against a real cluster and on any bind address
 * other people can reach; a config file with real users lifts both.
 */
export function checkDevUsers(config: Pick<PasoConfig, 'devUsers' | 'host' | 'temporalAddress'>): void {
  if (!config.devUsers) return;
  if (config.temporalAddress) {
    throw new ConfigError(
      'TEMPORAL_ADDRESS is set but no config file is: the built-in development users serve only the embedded ' +
        'default. Set PASO_CONFIG to a file with your users and tokens.',
    );
  }
  if (!isLoopback(config.host)) {
    throw new ConfigError(
      `PASO_HOST=${config.host} serves the gateway beyond this machine, but no config file is set and the ` +
        'built-in development users (whose tokens are public) serve only 127.0.0.1, ::1 or localhost. Set ' +
        'PASO_CONFIG to a file with your users and tokens, or leave PASO_HOST at its default.',
    );
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** 127.0.0.0/8, ::1 (also written `[::1]` or IPv4-mapped) and `localhost`; any other name may reach further. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const address = host.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** How an on/off variable may be written. */
const SWITCH_VALUES = ['on', 'off', 'true', 'false', '1', '0'] as const;
const SWITCH_ON = new Set<string>(['on', 'true', '1']);

const envSchema = z.object({
  PASO_PORT: port(8080),
  PASO_HOST: z.string().min(1).default('127.0.0.1'),
  PASO_DATA_DIR: z.string().min(1).default('.data'),
  PASO_CONFIG: z.string().min(1).optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  PASO_TEMPORAL_PORT: port(7233),
  PASO_TEMPORAL_UI_PORT: port(8233),
  PASO_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  TEMPORAL_CLI: z.string().min(1).optional(),
  PASO_PUBLIC_URL: z.url().optional(),
  PASO_WORKSPACE_DIR: z.string().min(1).optional(),
  PASO_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(25),
  PASO_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(DEFAULT_MAX_CACHED_WORKFLOWS),
  PASO_WORKFLOW_STACK_TRACES: z
    .string()
    .toLowerCase()
    .pipe(z.enum(SWITCH_VALUES, { error: `one of ${SWITCH_VALUES.join(', ')}` }))
    .transform((value) => SWITCH_ON.has(value))
    .default(false),
  PASO_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(10).max(3_600).default(60),
  PASO_WORKSPACE_RETENTION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(24),
  PASO_LOG_LIMIT_MB: z.coerce.number().positive().max(100_000).default(50),
  PASO_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(30),
  PASO_TRUST_PROXY: z.string().min(1).optional(),
  PASO_LOG_LEVEL: z
    .string()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  PASO_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  PASO_SDK_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  PASO_UPDATES_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  PASO_WAITING_SCAN: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_WAITING_SCAN),
  PASO_SESSION_SECRET: z.string().min(32, 'at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  PASO_TEMPORAL_UI_URL: z.url().optional(),
  PASO_DATABASE_URL: z
    .string()
    .optional()
    .refine((url) => url === undefined || (/^postgres(ql)?:\/\/[^\s]+$/.test(url) && URL.canParse(url)), {
      message: 'a postgres:// URL, e.g. postgres://paso:secret@db.example.com:5432/paso',
    }),
});

/** Every environment variable Paso reads (docker-compose.yml is checked against this list). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): PasoConfig {
  // An empty value is no value: container platforms and compose files commonly pass `NAME=` for "unset".
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsedEnv = envSchema.safeParse(given);
  if (!parsedEnv.success) throw new ConfigError(describe('environment', toFieldErrors(parsedEnv.error)));
  const e = parsedEnv.data;

  const configFile = e.PASO_CONFIG ?? (existsSync(path.join(cwd, 'paso.config.yaml')) ? 'paso.config.yaml' : undefined);
  const base = {
    port: e.PASO_PORT,
    host: e.PASO_HOST,
    dataDir: path.resolve(cwd, e.PASO_DATA_DIR),
    temporalAddress: e.TEMPORAL_ADDRESS,
    namespace: e.TEMPORAL_NAMESPACE,
    temporalPort: e.PASO_TEMPORAL_PORT,
    temporalUiPort: e.PASO_TEMPORAL_UI_PORT,
    taskQueue: e.PASO_TASK_QUEUE,
    temporalCli: e.TEMPORAL_CLI,
    publicUrl: (e.PASO_PUBLIC_URL ?? `http://${e.PASO_HOST}:${e.PASO_PORT}`).replace(/\/$/, ''),
    workspaceDir: path.resolve(cwd, e.PASO_WORKSPACE_DIR ?? path.join(e.PASO_DATA_DIR, 'workspaces')),
    shutdownGraceSeconds: e.PASO_SHUTDOWN_GRACE_SECONDS,
    maxCachedWorkflows: e.PASO_MAX_CACHED_WORKFLOWS,
    workflowStackTraces: e.PASO_WORKFLOW_STACK_TRACES,
    heartbeatTimeoutSeconds: e.PASO_HEARTBEAT_TIMEOUT_SECONDS,
    workspaceRetentionHours: e.PASO_WORKSPACE_RETENTION_HOURS,
    logLimitBytes: Math.round(e.PASO_LOG_LIMIT_MB * 1024 * 1024),
    databaseUrl: e.PASO_DATABASE_URL,
    authFailuresPerMinute: e.PASO_AUTH_FAILURES_PER_MINUTE,
    trustProxy: e.PASO_TRUST_PROXY,
    logLevel: e.PASO_LOG_LEVEL,
    metricsPort: e.PASO_METRICS_PORT,
    sdkMetricsPort: e.PASO_SDK_METRICS_PORT,
    updatesInFlight: e.PASO_UPDATES_IN_FLIGHT,
    waitingScan: e.PASO_WAITING_SCAN,
    sessionSecret: e.PASO_SESSION_SECRET,
    // The embedded dev server serves its UI; elsewhere only the operator knows where the Web UI is.
    temporalUiUrl:
      (e.PASO_TEMPORAL_UI_URL ?? (e.TEMPORAL_ADDRESS ? null : `http://127.0.0.1:${e.PASO_TEMPORAL_UI_PORT}`))?.replace(
        /\/$/,
        '',
      ) ?? null,
  };

  if (configFile === undefined) {
    return Object.freeze({
      ...base,
      users: DEV_USERS.map(({ token, ...u }) => ({ ...u, tokenSha256: sha256Hex(token) })),
      devUsers: DEV_USERS,
      slack: undefined,
      talkback: [],
      secrets: [],
      freezes: [],
      locks: null,
      notificationUrl: null,
      configFile: undefined,
    });
  }

  const file = path.resolve(cwd, configFile);
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describe(`config file ${file}`, toFieldErrors(parsed.error)));
  return Object.freeze({
    ...base,
    users: parsed.data.users.map(({ token, tokenSha256, ...u }) => ({
      ...u,
      tokenSha256: tokenSha256 ?? sha256Hex(token!),
    })),
    devUsers: null,
    slack: parsed.data.slack,
    talkback: parsed.data.talkback,
    secrets: parsed.data.secrets,
    locks: parsed.data.locks,
    freezes: parsed.data.freezes,
    notificationUrl: parsed.data.notifications?.url ?? null,
    configFile: file,
  });
}

function describe(where: string, errors: { path: string; message: string }[]): string {
  return `invalid ${where}:\n${errors.map((x) => `  ${x.path || '(root)'}: ${x.message}`).join('\n')}`;
}
