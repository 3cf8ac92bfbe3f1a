/**
 * Runs `/bin/sh -c <script>` in a process group of its own, under a supervisor process that kills the group
 * when this process dies (`supervisor/main.go`, one for all of this process's commands, or `src/supervisor.ts`,
 * one per command, where Go is not built), output appended to a log file, with a clean environment: the
 * allowed pipeline variables, a few of the worker's own, and Paso's. The whole group is killed (SIGTERM, then
 * SIGKILL after a grace period) on timeout or when the caller aborts, so nothing it started outlives it. Used
 * by the command activity, Talkback and CHECK.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import type { Socket } from 'node:net';
import { projectRoot } from './temporal/cli.js';
import { allowedVariables, INHERITED_ENV } from './shared/variables.js';
import { logger } from './log.js';

/** How much of the output callers keep (and workflows put in history); the rest stays in the log file. */
export const OUTPUT_TAIL_BYTES = 2048;
/** What a command's log keeps at most, per run, unless the caller says otherwise. */
export const LOG_LIMIT_BYTES = 50 * 1024 * 1024;

export interface ScriptRun {
  script: string;
  /**
   * The pipeline's variables. Names that would change how the shell, the loader or a runtime behaves are
   * dropped (and the log says so), and none overrides an inherited variable or Paso's own.
   */
  variables: Record<string, string>;
  /** Paso's own variables (`PASO_*`), set last. */
  env: Record<string, string>;
  /**
   * Secret values by name, given to the script as environment variables (their names were checked like
   * variables' when configured); every value is masked in the log as the output streams.
   */
  secrets?: Record<string, string>;
  cwd: string;
  logPath: string;
  /** The first line written to the log for this run (e.g. the attempt). */
  label: string;
  timeoutSeconds: number;
  killGraceMs: number;
  /** The most of the command's output its log keeps (default {@link LOG_LIMIT_BYTES}). */
  logLimitBytes?: number;
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
  const { allowed, dropped } = allowedVariables(run.variables);
  if (dropped.length > 0) await log.write(`=== variables not passed on (not allowed): ${dropped.join(' ')}\n`);

  let command: Supervised;
  try {
    command = await supervise({
      script: run.script,
      cwd: run.cwd,
      env: { ...allowed, ...inheritedEnv(), ...run.secrets, ...run.env },
      mask: Object.values(run.secrets ?? {}),
      killGraceMs: run.killGraceMs,
      logLimitBytes: run.logLimitBytes ?? LOG_LIMIT_BYTES,
      logPath: run.logPath,
      logFd: log.fd,
    });
  } catch (err) {
    await log.close();
    throw err;
  }

  let killedFor: 'timeout' | 'abort' | null = null;
  const killGroup = (why: 'timeout' | 'abort') => {
    if (killedFor) return;
    killedFor = why;
    command.terminate();
  };
  const timer = setTimeout(() => killGroup('timeout'), run.timeoutSeconds * 1000);
  const onAbort = () => killGroup('abort');
  run.signal?.addEventListener('abort', onAbort);
  if (run.signal?.aborted) onAbort();
  const tick = run.onTick ? setInterval(run.onTick, run.tickMs ?? 2_000) : undefined;

  const exit = await command.exited;
  // (Assigned in a callback: TypeScript cannot see it change, so read it back with its declared type.)
  const reason = killedFor as 'timeout' | 'abort' | null;
  clearTimeout(timer);
  clearInterval(tick);
  run.signal?.removeEventListener('abort', onAbort);

  const endedAt = new Date();
  const how = exit.error
    ? exit.error.message
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

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A supervisor's report (one JSON line): the command runs (`pid`), ended (`exit`, `signal`), or could not start. */
interface Report {
  pid?: number;
  exit?: number | null;
  signal?: NodeJS.Signals | null;
  error?: string;
}

/** How the command of an end report ended. */
function exitOf(report: Report): Exit {
  if (report.error !== undefined)
    return { code: null, signal: null, error: new Error(`could not start: ${report.error}`) };
  return { code: report.exit ?? null, signal: report.signal ?? null };
}

interface Supervised {
  /** SIGTERM to the command's process group, SIGKILL after the grace period. */
  terminate(): void;
  exited: Promise<Exit>;
}

const NODE_SUPERVISOR = path.join(projectRoot(), 'dist', 'src', 'supervisor.js');
/**
 * The same supervisor built from Go (`supervisor/`, by `npm run build` when Go is there): one process serving
 * all of this process's commands, instead of one Node process (~100 ms, ~40 MB) per command.
 */
export const NATIVE_SUPERVISOR = path.join(projectRoot(), 'dist', 'paso-supervisor');

interface SupervisedStart {
  script: string;
  cwd: string;
  env: Record<string, string>;
  killGraceMs: number;
  logLimitBytes: number;
  /** The log, by path (the native supervisor opens it) and by this process's open descriptor (the Node one's fd 3). */
  logPath: string;
  logFd: number;
  mask: string[];
}

/**
 * Starts a command under its supervisor, which kills it when asked and when this process dies: the native one
 * when it is built, unless `PASO_SUPERVISOR=node` asks for the Node one (tests run both). Resolves once the
 * command runs (or could not start).
 */
async function supervise(start: SupervisedStart): Promise<Supervised> {
  if (process.env.PASO_SUPERVISOR !== 'node' && existsSync(NATIVE_SUPERVISOR)) return nativeSupervisor().start(start);
  if (!existsSync(NODE_SUPERVISOR)) throw new Error(`${NODE_SUPERVISOR} is missing: run \`npm run build\``);
  return superviseInNode(start);
}

let native: NativeSupervisor | null = null;

/** This process's native supervisor, started with its first command (and again if it died). */
function nativeSupervisor(): NativeSupervisor {
  if (native === null || native.gone) native = new NativeSupervisor();
  return native;
}

/** A command of the native supervisor's, by the id this process gave it. */
interface NativeCommand {
  pid?: number;
  running: () => void;
  ended: (exit: Exit) => void;
}

/**
 * The native supervisor (`supervisor/main.go`): a child process whose stdin is a pipe from this process, so it
 * learns of this process's death from the kernel (end-of-file) and kills every command then. A command starts
 * with a line on that pipe: this process never forks itself for one (Node forks synchronously, on the thread
 * that also runs activities and the gateway, and a fork of a worker's memory costs about 6 ms).
 */
class NativeSupervisor {
  gone = false;
  private readonly child: ChildProcess;
  private readonly commands = new Map<number, NativeCommand>();
  private nextId = 1;

  constructor() {
    this.child = spawn(NATIVE_SUPERVISOR, [], {
      env: {},
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true, // not in the worker's process group: a Ctrl-C meant for the worker is the worker's to handle
    });
    // It keeps this process alive only while a command runs (see holding).
    this.child.unref();
    (this.child.stdin as Socket).unref();
    this.holding(false);
    // Once it has exited (or its stdin is broken), the next command goes to a new one; the commands it ran are
    // settled on 'close', not 'exit': only once its stdout has been read to the end are its last reports in.
    const gone = () => void (this.gone = true);
    this.child.stdin!.on('error', gone);
    this.child.once('exit', gone);
    this.child.once('error', gone); // a failed spawn also ends in 'close'
    this.child.once('close', (code, signal) => this.lost(code, signal));
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => this.receive(line));
  }

  async start(start: SupervisedStart): Promise<Supervised> {
    const id = this.nextId++;
    const { script, cwd, env, killGraceMs, logLimitBytes, mask, logPath } = start;
    let running!: () => void;
    const started = new Promise<void>((resolve) => (running = resolve));
    let ended!: (exit: Exit) => void;
    const exited = new Promise<Exit>((resolve) => (ended = resolve));
    const command: NativeCommand = { running, ended };
    this.commands.set(id, command);
    if (this.commands.size === 1) this.holding(true);
    void exited.then(running); // a command that could not start has ended without running
    // Secrets travel on this pipe, never in an argument or the supervisor's environment.
    this.send({ op: 'start', id, script, cwd, env, killGraceMs, logLimitBytes, mask, log: logPath });
    await started;
    let backstop: NodeJS.Timeout | undefined;
    void exited.then(() => clearTimeout(backstop));
    return {
      terminate: () => {
        this.send({ op: 'term', id });
        // Should the supervisor be stuck, the command's group is killed from here, and its end reported so.
        backstop = setTimeout(() => {
          if (command.pid !== undefined) signalGroup(command.pid, 'SIGKILL');
          backstop = setTimeout(() => {
            const error = new Error("the command's supervisor did not report its end");
            this.end(id, { code: null, signal: 'SIGKILL', error });
          }, 2_000);
          backstop.unref();
        }, killGraceMs + 2_000);
        backstop.unref();
      },
      exited,
    };
  }

  /** Whether its reports keep this process's event loop alive: while a command runs, they must arrive. */
  private holding(hold: boolean): void {
    const stdout = this.child.stdout as Socket;
    if (hold) stdout.ref();
    else stdout.unref();
  }

  private send(message: object): void {
    if (!this.gone) this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private receive(line: string): void {
    let m: Report & { id: number };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      logger.error(
        { component: 'supervisor', line: line.slice(0, 200) },
        'the supervisor wrote a line that is not a report',
      );
      return;
    }
    const command = this.commands.get(m.id);
    if (!command) return;
    if (m.pid !== undefined) {
      command.pid = m.pid;
      command.running();
    } else {
      this.end(m.id, exitOf(m));
    }
  }

  private end(id: number, exit: Exit): void {
    const command = this.commands.get(id);
    if (!command) return;
    this.commands.delete(id);
    if (this.commands.size === 0) this.holding(false);
    command.ended(exit);
  }

  /** The supervisor ended (killed from outside): the commands it ran are killed from here, and end so. */
  private lost(code: number | null, signal: NodeJS.Signals | null): void {
    this.gone = true;
    if (native === this) native = null;
    const how = signal ?? `code ${code}`;
    for (const [id, command] of this.commands) {
      // One it never said it started may or may not have been forked: its group is unknown, nothing to kill.
      if (command.pid !== undefined) signalGroup(command.pid, 'SIGKILL');
      const error =
        command.pid === undefined
          ? new Error(`could not start: the command's supervisor had ended (${how})`)
          : new Error(`the command's supervisor ended (${how}) without reporting`);
      this.end(id, { code: null, signal: null, error });
    }
  }
}

/** The Node supervisor (`src/supervisor.ts`): one process per command, which has the log as its descriptor 3. */
async function superviseInNode(start: SupervisedStart): Promise<Supervised> {
  const supervisor = spawn(process.execPath, [NODE_SUPERVISOR], {
    env: {},
    stdio: ['pipe', 'pipe', start.logFd, start.logFd],
    detached: true, // not in the worker's process group: a Ctrl-C meant for the worker is the worker's to handle
  });
  const { script, cwd, env, killGraceMs, logLimitBytes, mask } = start;
  // Secrets travel on this pipe, never in an argument or the supervisor's environment.
  const message = { script, cwd, env, killGraceMs, logLimitBytes, mask };
  const stdin = supervisor.stdin!;
  const stdout = supervisor.stdout!;
  stdin.on('error', () => undefined); // it may be gone already
  stdin.write(`${JSON.stringify(message)}\n`);
  const lines = readline.createInterface({ input: stdout });
  let pid: number | undefined;
  let result: Exit | undefined;
  const running = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      const m = JSON.parse(line) as Report;
      if (m.pid !== undefined) pid = m.pid;
      else result = exitOf(m);
      resolve();
    });
    lines.once('close', () => resolve());
  });
  const exited = new Promise<Exit>((resolve) => {
    // 'close', not 'exit': only once its stdout has been read to the end is its last report in. A supervisor
    // that ended without one was killed from outside; its command's group goes below.
    supervisor.once('close', (code, signal) =>
      resolve(
        result ?? {
          code: null,
          signal,
          error: signal ? undefined : new Error(`the command's supervisor ended (code ${code}) without reporting`),
        },
      ),
    );
  });
  await running;
  let backstop: NodeJS.Timeout | undefined;
  void exited.then(() => {
    clearTimeout(backstop);
    if (result === undefined && pid !== undefined) signalGroup(pid, 'SIGKILL');
  });
  return {
    terminate() {
      stdin.write('term\n');
      // Should the supervisor itself be stuck, the command's group is killed from here.
      backstop = setTimeout(() => {
        if (pid !== undefined) signalGroup(pid, 'SIGKILL');
        supervisor.kill('SIGKILL');
      }, start.killGraceMs + 2_000);
      backstop.unref();
    },
    exited,
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
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
