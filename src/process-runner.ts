/**
 * Runs `/bin/sh -c <script>` in a process group of its own, output appended to a log file, with a clean
 * environment. The whole group is killed (SIGTERM, then SIGKILL after a grace period) on timeout or when
 * the caller aborts, so nothing it started outlives it. Used by the command activity and by CHECK.
 */
import { spawn } from 'node:child_process';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';

/** How much of the output callers keep (and workflows put in history); the rest stays in the log file. */
export const OUTPUT_TAIL_BYTES = 2048;

/** Environment variables of this process that scripts inherit; everything else (tokens, secrets) stays out. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'USER', 'SHELL'];

export interface ScriptRun {
  script: string;
  /** Added to the few inherited variables. */
  env: Record<string, string>;
  cwd: string;
  logPath: string;
  /** The first line written to the log for this run (e.g. the attempt). */
  label: string;
  timeoutSeconds: number;
  killGraceMs: number;
  signal?: AbortSignal;
  /** Called every `tickMs` while the script runs (activities heartbeat here). */
  onTick?: () => void;
  tickMs?: number;
}

export interface ScriptResult {
  exitCode: number | null;
  /** Why Paso ended it, if it did. */
  killedFor: 'timeout' | 'abort' | null;
  /** A human description: `exited with code 3`, `killed by SIGKILL (timeout)`, `could not start: …`. */
  description: string;
  ok: boolean;
  startedAt: string;
  endedAt: string;
  outputTail: string;
}

export async function runScript(run: ScriptRun): Promise<ScriptResult> {
  await mkdir(path.dirname(run.logPath), { recursive: true });
  await mkdir(run.cwd, { recursive: true });
  const log = await open(run.logPath, 'a');
  const startedAt = new Date();
  const logStart = (await log.stat()).size;
  await log.write(`=== ${startedAt.toISOString()} ${run.label}: ${firstLine(run.script)}\n`);

  let child;
  try {
    child = spawn('/bin/sh', ['-c', run.script], {
      cwd: run.cwd,
      env: { ...inheritedEnv(), ...run.env },
      stdio: ['ignore', log.fd, log.fd],
      detached: true, // a new process group, so that the whole tree can be killed at once
    });
  } catch (err) {
    await log.close();
    throw err;
  }

  let killedFor: 'timeout' | 'abort' | null = null;
  const killGroup = (why: 'timeout' | 'abort') => {
    if (killedFor) return;
    killedFor = why;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), run.killGraceMs).unref();
  };
  const timer = setTimeout(() => killGroup('timeout'), run.timeoutSeconds * 1000);
  const onAbort = () => killGroup('abort');
  run.signal?.addEventListener('abort', onAbort);
  if (run.signal?.aborted) onAbort();
  const tick = run.onTick ? setInterval(run.onTick, run.tickMs ?? 2_000) : undefined;

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // (Assigned in a callback: TypeScript cannot see it change, so read it back with its declared type.)
  const reason = killedFor as 'timeout' | 'abort' | null;
  clearTimeout(timer);
  clearInterval(tick);
  run.signal?.removeEventListener('abort', onAbort);
  if (reason) signalGroup(child.pid, 'SIGKILL'); // whatever the shell left behind goes with it

  const endedAt = new Date();
  const how = exit.error
    ? `could not start: ${exit.error.message}`
    : exit.signal
      ? `killed by ${exit.signal}`
      : `exited with code ${exit.code}`;
  const description = reason ? `${how} (${reason})` : how;
  await log.write(`=== ${endedAt.toISOString()} ${description}\n`);
  await log.close();
  return {
    exitCode: exit.code,
    killedFor: reason,
    description,
    ok: !reason && !exit.error && exit.code === 0,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    outputTail: await readTail(run.logPath, logStart),
  };
}

function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(INHERITED_ENV.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function firstLine(script: string): string {
  const line = script.split('\n', 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** The end of what this run wrote, at most {@link OUTPUT_TAIL_BYTES}, without the bookkeeping lines. */
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
