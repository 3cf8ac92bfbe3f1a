/**
 * Paso's structured logs: pino, one JSON event per line on stdout (human-readable through pino-pretty when
 * stdout is a terminal), level from `PASO_LOG_LEVEL` (default `info`). Events carry `pipeline`, `executionId`,
 * `stage`, `action` and `reqId` where known. Temporal's SDK logs through the same logger ({@link temporalLogger}).
 *
 * No secret reaches a line: headers that carry credentials are redacted by path, nothing logs bodies, and every
 * value registered with {@link neverLog} (secret values, the Slack signing secret and bot token) is masked in the
 * serialized line, whatever field it hides in.
 */
import pino from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { parseExecutionId } from './shared/execution.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type PasoLogLevel = (typeof LOG_LEVELS)[number];

const MASK = '***';
const sensitive = new Set<string>();

/** Values that must never appear in a log line; each occurrence (also JSON-escaped) becomes `***`. */
export function neverLog(values: Iterable<string | undefined | null>): void {
  for (const value of values) {
    if (!value || value.length < 4) continue;
    sensitive.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) sensitive.add(escaped);
  }
}

function maskSecrets(line: string): string {
  let out = line;
  for (const value of sensitive) if (out.includes(value)) out = out.split(value).join(MASK);
  return out;
}

function initialLevel(): PasoLogLevel {
  const given = process.env.PASO_LOG_LEVEL?.toLowerCase();
  // An invalid value is reported by the config's validation, with every other problem; meanwhile: info.
  return (LOG_LEVELS as readonly string[]).includes(given ?? '') ? (given as PasoLogLevel) : 'info';
}

/** Credentials that may ride on a request or response someone logs whole. */
const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-slack-signature"]',
  'token',
  'botToken',
  'signingSecret',
];

/**
 * Synchronous writes: a line logged just before `process.exit` is not lost, and the ready lines that scripts
 * wait for come out in order.
 */
function destination(fd: 1 | 2) {
  const stream = fd === 1 ? process.stdout : process.stderr;
  return stream.isTTY
    ? pretty({ colorize: true, sync: true, destination: fd, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: fd, sync: true });
}

function create(fd: 1 | 2) {
  return pino(
    {
      level: initialLevel(),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED, censor: '[redacted]' },
      hooks: { streamWrite: maskSecrets },
    },
    destination(fd),
  );
}

/** The process's root logger, on stdout; modules take children of it (`logger.child({ component })`). */
export const logger = create(1);

/** Start-up failures go to stderr, where scripts and people look for why a process did not start. */
export const startupLogger = create(2);

export function setLogLevel(level: PasoLogLevel): void {
  logger.level = level;
}

const SDK_LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Meta the SDK adds that says nothing to a person reading the log (and may be long). */
const DROPPED_META = new Set(['taskToken', 'runId', 'workflowRunId', 'namespace', 'isLocal', 'activityId']);

/**
 * Temporal's meta in Paso's vocabulary: a workflow id is an execution id (`web-42`) or a coordinator's
 * (`pipeline:web`); an error goes under `err` so pino serializes its stack.
 */
export function sdkFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (DROPPED_META.has(key)) continue;
    if (key === 'error' || key === 'failure') fields.err = value;
    else fields[key] = value;
  }
  const workflowId = typeof meta?.workflowId === 'string' ? meta.workflowId : undefined;
  if (workflowId?.startsWith('pipeline:')) fields.pipeline ??= workflowId.slice('pipeline:'.length);
  const execution = workflowId ? parseExecutionId(workflowId) : null;
  if (execution) {
    fields.executionId ??= workflowId;
    fields.pipeline ??= execution.pipeline;
  }
  delete fields.workflowId;
  if (!execution && workflowId && !workflowId.startsWith('pipeline:')) fields.workflowId = workflowId;
  return fields;
}

/** The SDK's `Logger` (worker, workflows' `log`, activities' `log`, forwarded Core logs) onto pino. */
export function temporalLogger(base = logger.child({ component: 'temporal' })): SdkLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) =>
    base[SDK_LEVELS[level] ?? 'info'](sdkFields(meta), message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
