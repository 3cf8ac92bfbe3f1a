/**
 * The process runner and its supervisor, with real processes: a command and everything it started die with
 * the process that ran it, however that process ends.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NATIVE_SUPERVISOR, runScript } from '../../src/process-runner.js';

let dir = mkdtempSync(path.join(os.tmpdir(), 'paso-runner-'));
const ROOT = path.resolve(import.meta.dirname, '..', '..');

function processesOf(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const run = (script: string, extra: Partial<Parameters<typeof runScript>[0]> = {}) =>
  runScript({
    script,
    variables: {},
    env: {},
    cwd: path.join(dir, 'ws'),
    logPath: path.join(dir, 'run.log'),
    label: 'test',
    timeoutSeconds: 30,
    killGraceMs: 500,
    ...extra,
  });

// Both supervisors speak one protocol: the native one (Go, built by `npm run build`) and the Node one.
describe.each(['native', 'node'] as const)('runScript under the %s supervisor', (kind) => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), `paso-runner-${kind}-`));
    if (kind === 'node') process.env.PASO_SUPERVISOR = 'node';
  });
  afterAll(() => {
    delete process.env.PASO_SUPERVISOR;
  });

  if (kind === 'native') {
    it('is built (npm run build builds it where Go is, as on every machine the tests run on)', () => {
      expect(existsSync(NATIVE_SUPERVISOR)).toBe(true);
    });
  }

  it('masks secrets as the output streams, a value split across two writes included', async () => {
    const logPath = path.join(dir, 'secret.log');
    // The value is printed in two writes 0.3 s apart, from the variable: the script's own text holds none of it.
    const split =
      'printf "half=%s" "$(printf %s "$TOKEN" | cut -c1-3)"; sleep 0.3; printf "%s\\n" "$(printf %s "$TOKEN" | cut -c4-)"';
    const result = await run(`echo "token=$TOKEN"; ${split}`, {
      logPath,
      secrets: { TOKEN: 'topsecret-value' },
    });
    expect(result.ok).toBe(true);
    const log = readFileSync(logPath, 'utf8');
    expect(log).toContain('token=***\nhalf=***\n');
    expect(log).not.toContain('secret-value');
    expect(result.outputTail).toBe('token=***\nhalf=***');
  });

  it("does not leave the script the log's descriptor: nothing reaches the log unmasked", async () => {
    const logPath = path.join(dir, 'descriptors.log');
    // A script that had the log open could write a secret around the mask. (It is the Node supervisor's
    // descriptor 3; the native one opens it itself.)
    const result = await run(
      'for fd in /proc/$$/fd/*; do echo "${fd##*/} $(readlink "$fd")"; done; echo "token=$TOKEN" >&3',
      { logPath, secrets: { TOKEN: 'topsecret-value' } },
    );
    expect(readFileSync(logPath, 'utf8')).not.toContain('secret-value');
    const descriptors = result.outputTail.split('\n').filter((l) => /^\d+ /.test(l));
    expect(descriptors.length).toBeGreaterThanOrEqual(3); // 0, 1 and 2 at least: the listing ran
    expect(descriptors.filter((l) => l.includes('descriptors.log'))).toEqual([]);
  });

  it('reports the exit code and the output', async () => {
    const result = await run('echo hello; echo oops >&2; exit 3');
    expect(result).toMatchObject({ exitCode: 3, ok: false, killedFor: null, description: 'exited with code 3' });
    expect(result.outputTail).toBe('hello\noops');
  });

  it('keeps at most the log limit of a command that prints without end, says so, and lets it finish', async () => {
    const logPath = path.join(dir, 'big.log');
    const result = await run('head -c 3000000 /dev/zero | tr "\\0" x; echo; echo done >&2', {
      logPath,
      logLimitBytes: 100_000,
    });
    expect(result).toMatchObject({ exitCode: 0, ok: true });
    const log = readFileSync(logPath, 'utf8');
    const kept = log.split('\n').find((l) => l.startsWith('x'))!;
    expect(kept).toHaveLength(100_000);
    expect(log).toContain('=== output truncated: the log reached its limit of 100000 bytes; the rest was dropped');
    expect(log).not.toContain('\ndone\n'); // printed after the limit
    expect(log.length).toBeLessThan(100_500);
  });

  it('kills the whole process group on abort, a command that ignores SIGTERM included', async () => {
    const marker = path.join(dir, 'abort.marker');
    const abort = new AbortController();
    const running = run(`trap '' TERM; (sleep 300; echo ${marker}) & sleep 300 # ${marker}`, { signal: abort.signal });
    await expect.poll(() => processesOf(marker).length).toBeGreaterThan(0);
    const abortedAt = Date.now();
    abort.abort();
    const result = await running;
    expect(result).toMatchObject({ killedFor: 'abort', description: 'killed by SIGKILL (abort)' });
    // By the supervisor's SIGKILL after the grace period (500 ms), not by the runner's backstop 2 s later.
    expect(Date.now() - abortedAt).toBeLessThan(1_500);
    await expect.poll(() => processesOf(marker), { timeout: 3_000 }).toEqual([]);
  });

  it('kills every command when the process that ran them is killed with SIGKILL, one that ignores SIGTERM too', async () => {
    const markers = [path.join(dir, 'orphan-1.marker'), path.join(dir, 'orphan-2.marker')];
    // The second ignores SIGTERM (as its children do): it ends only by the SIGKILL after the grace period, which
    // the supervisor sends after the first one has ended and could not be told so.
    const script = (marker: string) =>
      `${marker.endsWith('2.marker') ? "trap '' TERM; " : ''}sh -c 'sleep 300' ${marker} & ` +
      `while true; do date +%s%3N >> ${marker}; sleep 0.1; done`;
    // A process of its own runs two commands at once through the built runner, as a worker does; then it is killed.
    const runs = markers.map(
      (marker, i) =>
        `runScript({ script: ${JSON.stringify(script(marker))}, variables: {}, env: {}, cwd: ${JSON.stringify(dir)},
           logPath: ${JSON.stringify(path.join(dir, `orphan-${i}.log`))}, label: 'test', timeoutSeconds: 300, killGraceMs: 500 })`,
    );
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { runScript } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'process-runner.js'))});
         await Promise.all([${runs.join(', ')}]);`,
      ],
      { stdio: 'ignore' },
    );
    for (const marker of markers) {
      await expect.poll(() => existsSync(marker), { timeout: 10_000 }).toBe(true);
      expect(processesOf(marker).length).toBeGreaterThan(1); // the loop and the background sleep
    }
    const exited = new Promise((r) => parent.once('exit', r));
    parent.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    for (const marker of markers) {
      await expect.poll(() => processesOf(marker), { timeout: 3_000, interval: 50 }).toEqual([]);
      const last = Number(readFileSync(marker, 'utf8').trim().split('\n').at(-1));
      expect(last).toBeLessThan(killedAt + 1_000);
    }
  });

  it('runs commands side by side, each with its own log, output and exit', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        run(`echo "start ${i}"; sleep 0.${5 - i}; echo "end ${i}" >&2; exit ${i}`, {
          logPath: path.join(dir, `side-${i}.log`),
        }),
      ),
    );
    results.forEach((result, i) => {
      expect(result).toMatchObject({ exitCode: i, outputTail: `start ${i}\nend ${i}` });
      const log = readFileSync(path.join(dir, `side-${i}.log`), 'utf8');
      expect(log).toContain(`start ${i}\nend ${i}\n=== `); // the end line comes after all of its output
      expect(log).not.toMatch(new RegExp(`(start|end) [^${i}]`));
    });
  });

  if (kind === 'native') {
    it('one native supervisor serves the process; if it is killed, its commands die, fail, and the next command gets a new one', async () => {
      const marker = path.join(dir, 'lost.marker');
      const parents = [path.join(dir, 'parent-1'), path.join(dir, 'parent-2'), path.join(dir, 'parent-3')];
      const first = run(`echo $PPID > ${parents[0]}; sleep 300 # ${marker}`);
      const second = run(`echo $PPID > ${parents[1]}; sleep 300 # ${marker}`);
      await expect
        .poll(() => parents.slice(0, 2).every((p) => existsSync(p) && readFileSync(p, 'utf8').trim()))
        .toBe(true);
      const supervisor = readFileSync(parents[0]!, 'utf8').trim();
      expect(readFileSync(parents[1]!, 'utf8').trim()).toBe(supervisor);
      expect(readFileSync(`/proc/${supervisor}/cmdline`, 'utf8')).toContain('paso-supervisor');
      process.kill(Number(supervisor), 'SIGKILL');
      for (const result of await Promise.all([first, second])) {
        expect(result).toMatchObject({ ok: false, killedFor: null });
        expect(result.description).toBe("the command's supervisor ended (SIGKILL) without reporting");
      }
      await expect.poll(() => processesOf(marker), { timeout: 3_000 }).toEqual([]);
      const next = await run(`echo $PPID > ${parents[2]}; echo again`);
      expect(next).toMatchObject({ ok: true, outputTail: 'again' });
      expect(readFileSync(parents[2]!, 'utf8').trim()).not.toBe(supervisor);
    });
  }
});
