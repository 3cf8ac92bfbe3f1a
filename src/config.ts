/**
 * Paso's configuration: the environment (CONTRACT.md section 1) and the config file (users, tokens, roles,
 * groups, Slack, Talkback), parsed once into a frozen object. Invalid configuration stops the process with
 * every problem listed by path.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './shared/temporal.js';
import { toFieldErrors } from './shared/validation.js';

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
  })
  .strict();

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
  /** Where manual steps are announced (HTTP POST of a JSON document), if anywhere. */
  notificationUrl: string | null;
  /** The gateway's address as people reach it, for links in notifications. */
  publicUrl: string;
  configFile: string | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Development users for the embedded default only: never used when a config file or a real cluster is. */
const DEV_USERS = [
  { name: 'alice', token: 'dev-alice-token', roles: ['admin'] as Role[], groups: ['release-managers'] },
  { name: 'bob', token: 'dev-bob-token', roles: ['operator'] as Role[], groups: ['release-managers'] },
  { name: 'carol', token: 'dev-carol-token', roles: ['viewer'] as Role[], groups: [] },
];

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

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
});

/** Every environment variable Paso reads (docker-compose.yml is checked against this list). */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): PasoConfig {
  const parsedEnv = envSchema.safeParse(env);
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
  };

  if (configFile === undefined) {
    return Object.freeze({
      ...base,
      users: DEV_USERS.map(({ token, ...u }) => ({ ...u, tokenSha256: sha256Hex(token) })),
      devUsers: DEV_USERS,
      slack: undefined,
      talkback: [],
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
    notificationUrl: parsed.data.notifications?.url ?? null,
    configFile: file,
  });
}

function describe(where: string, errors: { path: string; message: string }[]): string {
  return `invalid ${where}:\n${errors.map((x) => `  ${x.path || '(root)'}: ${x.message}`).join('\n')}`;
}
