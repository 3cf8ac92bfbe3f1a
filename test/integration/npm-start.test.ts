/**
 * The README's run command as a newcomer meets it: `node dist/src/main.js` (what `npm start` runs) with no
 * TEMPORAL_ADDRESS starts its own dev server, registers the examples, prints the dev tokens; Ctrl-C leaves
 * no process behind; a second start on the same data directory finds the execution where it was.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN } from '../support/paso-process.js';
import { freePort } from '../support/ports.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

async function startPaso(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 90s:\n${output}`)), 90_000);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    child.stdout.on('data', () => {
      if (output.includes('Paso is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const stop = () =>
    new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill('SIGINT');
    });
  return { output: () => output, stop };
}

/** Processes whose command line mentions `needle` (the data directory is unique to this test). */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(needle) && !line.includes('ps -eo'));
}

describe('npm start (the embedded default)', () => {
  it('runs everything, stops cleanly, and keeps executions across a restart', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'paso-start-'));
    const port = await freePort();
    const env = {
      PASO_DATA_DIR: dataDir,
      PASO_PORT: String(port),
      PASO_TEMPORAL_PORT: String(await freePort()),
      PASO_TEMPORAL_UI_PORT: String(await freePort()),
    };
    const base = `http://127.0.0.1:${port}`;
    const as = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

    const first = await startPaso(env);
    expect(first.output()).toMatch(/bob\s+operator\s+token dev-bob-token/);
    expect(first.output()).toContain('pipelines registered: hello v1');
    const listed = (await (await fetch(`${base}/pipelines`, { headers: as('dev-carol-token') })).json()) as {
      name: string;
    }[];
    expect(listed.map((p) => p.name)).toContain('hello');

    const res = await fetch(`${base}/pipelines/hello/executions`, {
      method: 'POST',
      headers: as('dev-bob-token'),
      body: '{}',
    });
    expect(res.status).toBe(201);
    const { executionId } = (await res.json()) as { executionId: string };

    expect(await first.stop()).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]); // the dev server went with it

    const second = await startPaso(env);
    try {
      expect(second.output()).toContain('pipelines registered: hello v1'); // unchanged: same version
      let status = '';
      for (let i = 0; i < 150 && status !== 'Succeeded'; i++) {
        const r = await fetch(`${base}/executions/${executionId}`, { headers: as('dev-carol-token') });
        status = ((await r.json()) as { status: string }).status;
        if (status !== 'Succeeded') await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe('Succeeded');
    } finally {
      await second.stop();
    }
  }, 240_000);
});
