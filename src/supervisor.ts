/**
 * The supervisor: a small process between a worker and one command, so that a command never outlives its
 * worker. The worker starts it with a pipe as its stdin and keeps the pipe's other end; when the worker
 * process dies, for any reason (kill -9, out of memory), the kernel closes that end and the supervisor reads
 * end-of-file. It then kills the command's process group at once (SIGTERM, SIGKILL after the grace period).
 * Nothing else can tell a process that its parent died on every platform Node runs on, and a pipe cannot
 * leak: Node opens it close-on-exec, so no other child of the worker holds it open.
 *
 * Protocol, one JSON document per line:
 *   stdin  ← `{"script","cwd","env","killGraceMs","logLimitBytes"}` to start, then `term` (kill: SIGTERM, then SIGKILL after
 *            the grace period) or `kill` (SIGKILL now). End-of-file means the worker is gone: `term`.
 *   stdout → `{"pid":n}` once the command runs, `{"exit":code,"signal":name|null}` or `{"error":message}`
 *            when it has ended; the supervisor exits right after.
 *   fd 3   ← the command's log. The command's stdout and stderr (one pipe, in the order written) are copied
 *            there up to `logLimitBytes`; past it a marker line says so and the rest is read and dropped, so
 *            a command that prints without end fills no disk and no memory.
 *
 * The command runs `/bin/sh -c <script>` in a process group of its own, so that a kill reaches everything it
 * started. Output written after the command has exited (by something it left running) is not kept. The supervisor runs with an empty environment: the command's variables cannot change how Node runs.
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import readline from 'node:readline';
import { StreamMasker } from './mask.js';

interface StartMessage {
  script: string;
  cwd: string;
  env: Record<string, string>;
  killGraceMs: number;
  logLimitBytes: number;
  /** Values to mask in the log (secrets), as `***`. */
  mask?: string[];
}

/** How long the supervisor waits, after the command exits, for the rest of its output. */
const DRAIN_MS = 500;

function send(message: object): void {
  // The worker may be gone: nobody reads, and that is fine.
  process.stdout.write(`${JSON.stringify(message)}\n`, () => undefined);
}
process.stdout.on('error', () => undefined);

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}

function start(message: StartMessage, lines: readline.Interface): void {
  // The outer shell joins stderr to stdout and becomes the script's shell: one pipe, the script's text untouched.
  const child = spawn('/bin/sh', ['-c', 'exec /bin/sh -c "$1" 2>&1', 'sh', message.script], {
    cwd: message.cwd,
    env: message.env,
    stdio: ['ignore', 'pipe', 3],
    detached: true,
  });
  const output = child.stdout!;
  const masker = new StreamMasker(message.mask ?? []);
  let written = 0;
  const write = (chunk: Buffer) => {
    const room = message.logLimitBytes - written;
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    writeSync(3, part);
    written += part.length;
    if (written >= message.logLimitBytes) {
      writeSync(
        3,
        `\n=== output truncated: the log reached its limit of ${message.logLimitBytes} bytes; the rest was dropped\n`,
      );
    }
  };
  output.on('data', (chunk: Buffer) => write(masker.push(chunk)));
  const drained = new Promise<void>((resolve) => {
    output.once('end', resolve);
    output.once('error', () => resolve());
  }).then(() => write(masker.flush()));
  let killing = false;
  const kill = (now: boolean) => {
    if (child.pid === undefined) return;
    if (now) {
      killing = true;
      signalGroup(child.pid, 'SIGKILL');
      return;
    }
    if (killing) return;
    killing = true;
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), message.killGraceMs).unref();
  };
  child.once('spawn', () => send({ pid: child.pid }));
  child.once('error', (err) => {
    send({ error: err.message });
    process.exit(0);
  });
  child.once('exit', (code, signal) => {
    // A killed command's leftovers (what its shell started) go with it.
    if (killing) signalGroup(child.pid!, 'SIGKILL');
    void Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_MS))]).then(() => {
      send({ exit: code, signal });
      process.stdout.end(() => process.exit(0));
    });
  });
  lines.on('line', (line) => {
    if (line === 'term') kill(false);
    else if (line === 'kill') kill(true);
  });
  lines.once('close', () => kill(false));
  // Signals sent to the supervisor itself (an operator's kill) are passed on the same way.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => kill(false));
}

const lines = readline.createInterface({ input: process.stdin });
let started = false;
lines.once('line', (first) => {
  started = true;
  let message: StartMessage;
  try {
    message = JSON.parse(first) as StartMessage;
  } catch {
    send({ error: 'the supervisor expected a start message' });
    process.exit(2);
  }
  start(message, lines);
});
// The worker died before it said what to run.
lines.once('close', () => {
  if (!started) process.exit(0);
});
