/**
 * Runs a `command` action: `/bin/sh -c <run>` in a process group of its own, output to a log file, the
 * pipeline's variables in the environment (never spliced into the script). The whole group is killed when
 * the activity is cancelled or the action times out, so nothing it started outlives it.
 */
import { spawn } from 'node:child_process';
import { open, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Context, ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import type { Variables } from '../shared/definition.js';
import { ErrorTypes } from '../shared/messages.js';
import { actionLogPath, workspacePath } from '../data-dir.js';
import type { CommandOutcome } from '../workflows/execution-state.js';

export interface RunCommandInput {
  executionId: string;
  pipeline: string;
  stage: string;
  action: string;
  run: string;
  variables: Variables;
  timeoutSeconds: number;
}

export interface CommandDeps {
  dataDir: string;
  /** How long a command has between SIGTERM and SIGKILL. */
  killGraceMs: number;
  heartbeatMs: number;
}

/** How much of the output is kept in the workflow (and so in history); the rest stays in the log file. */
export const OUTPUT_TAIL_BYTES = 2048;

/** Environment variables of the worker that commands inherit; everything else (tokens, secrets) stays out. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL'];

export async function runCommand(deps: CommandDeps, input: RunCommandInput): Promise<CommandOutcome> {
  const ctx = Context.current();
  const logPath = actionLogPath(deps.dataDir, input.executionId, input.stage, input.action);
  const cwd = workspacePath(deps.dataDir, input.executionId);
  await mkdir(path.dirname(logPath), { recursive: true });
  await mkdir(cwd, { recursive: true });

  const log = await open(logPath, 'a');
  const startedAt = new Date();
  const logStart = (await log.stat()).size;
  await log.write(`=== ${startedAt.toISOString()} attempt ${ctx.info.attempt}: ${firstLine(input.run)}\n`);

  let child;
  try {
    child = spawn('/bin/sh', ['-c', input.run], {
      cwd,
      env: commandEnv(input, cwd),
      stdio: ['ignore', log.fd, log.fd],
      detached: true, // a new process group, so that the whole tree can be killed at once
    });
  } catch (err) {
    await log.close();
    throw err;
  }

  let reason: 'timeout' | 'cancelled' | null = null;
  const killGroup = (why: 'timeout' | 'cancelled') => {
    if (reason) return;
    reason = why;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), deps.killGraceMs).unref();
  };
  const timer = setTimeout(() => killGroup('timeout'), input.timeoutSeconds * 1000);
  const onCancel = () => killGroup('cancelled');
  ctx.cancellationSignal.addEventListener('abort', onCancel);
  const beat = setInterval(() => ctx.heartbeat(), deps.heartbeatMs);

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  clearInterval(beat);
  ctx.cancellationSignal.removeEventListener('abort', onCancel);
  if (reason) signalGroup(child.pid, 'SIGKILL'); // whatever the shell left behind goes with it

  const endedAt = new Date();
  await log.write(`=== ${endedAt.toISOString()} ${describeExit(exit, reason)}\n`);
  await log.close();
  const outcome: CommandOutcome = {
    exitCode: exit.code,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    outputTail: await readTail(logPath, logStart),
  };

  if (reason === 'cancelled') {
    // The SDK tells a cancellation from a worker shutdown by this reason; hand it back as it came.
    throw ctx.cancellationSignal.reason ?? new CancelledFailure('command abandoned: its process group was killed');
  }
  if (reason === 'timeout') {
    throw ApplicationFailure.create({
      message: `timed out after ${input.timeoutSeconds}s`,
      type: ErrorTypes.CommandTimedOut,
      nonRetryable: true,
      details: [outcome],
    });
  }
  if (exit.error || exit.code !== 0) {
    throw ApplicationFailure.create({
      message: exit.error ? `could not start: ${exit.error.message}` : describeExit(exit, null),
      type: ErrorTypes.CommandFailed,
      nonRetryable: true,
      details: [outcome],
    });
  }
  return outcome;
}

function commandEnv(input: RunCommandInput, cwd: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(INHERITED_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  return {
    ...inherited,
    ...input.variables,
    PASO_PIPELINE: input.pipeline,
    PASO_EXECUTION_ID: input.executionId,
    PASO_STAGE: input.stage,
    PASO_ACTION: input.action,
    PASO_WORKSPACE: cwd,
  };
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null }, reason: string | null): string {
  const how = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return reason ? `${how} (${reason})` : how;
}

function firstLine(script: string): string {
  const line = script.split('\n', 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** The end of what this attempt wrote, at most {@link OUTPUT_TAIL_BYTES}, without the bookkeeping lines. */
async function readTail(file: string, from: number): Promise<string> {
  const size = (await stat(file)).size;
  const start = Math.max(from, size - OUTPUT_TAIL_BYTES - 512);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf
      .toString('utf8')
      .split('\n')
      .filter((l) => !l.startsWith('=== '));
    const text = lines.join('\n').trim();
    return text.length > OUTPUT_TAIL_BYTES ? text.slice(-OUTPUT_TAIL_BYTES) : text;
  } finally {
    await fh.close();
  }
}
