/**
 * Paso's own data in PostgreSQL (PASO_DATABASE_URL): two gateways and a worker with three different data
 * directories, as on three hosts, see the same logs, annotations and attachments; nothing is on a shared disk.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import type { TestDatabase } from '../support/postgres.js';
import { testDatabase } from '../support/postgres.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { tokenOf } from '../support/users.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-shared-store-'));
const taskQueue = `paso-shared-store-${process.pid}`;
let database: TestDatabase;
const processes: PasoProcess[] = [];
let a: Api;
let b: Api;
let c: Api;
/** Between gateway C and the database: the test cuts it. */
let proxy: TcpProxy;

beforeAll(async () => {
  database = await testDatabase();
  const databaseAddress = new URL(database.url);
  proxy = await TcpProxy.start(`${databaseAddress.hostname}:${databaseAddress.port || 5432}`);
  const viaProxy = new URL(database.url);
  viaProxy.host = proxy.address;
  const host = (name: string, url = database.url) => ({
    temporalAddress: inject('temporalAddress'),
    dataDir: path.join(workDir, name),
    configFile: inject('configFile'),
    taskQueue,
    logFile: path.join(workDir, `${name}.log`),
    env: { PASO_DATABASE_URL: url },
  });
  // Started together: each applies the schema or waits for the one that does.
  const [gatewayA, gatewayB, gatewayC, worker] = await Promise.all([
    PasoProcess.startGateway(host('gateway-a')),
    PasoProcess.startGateway(host('gateway-b')),
    PasoProcess.startGateway(host('gateway-c', viaProxy.toString())),
    PasoProcess.startWorker(host('worker')),
  ]);
  processes.push(gatewayA, gatewayB, gatewayC, worker);
  a = new Api(gatewayA.url);
  b = new Api(gatewayB.url);
  c = new Api(gatewayC.url);
}, 120_000);
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await proxy?.close();
  await database?.stop();
});

describe('two gateways and a worker on one database', () => {
  it('serve annotations and attachments written through the other gateway', async () => {
    const name = uniqueName('shared-notes');
    await a.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const id = await a.trigger(name);
    await a.waitFor(id);
    expect((await a.as('bob').post(`/executions/${id}/annotations`, { kind: 'comment', text: 'via A' })).status).toBe(
      201,
    );
    const form = new FormData();
    form.append('file', new Blob(['release notes\n'], { type: 'text/plain' }), 'notes.txt');
    const upload = await fetch(`${a.baseUrl}/executions/${id}/annotations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf('bob')}` },
      body: form,
    });
    expect(upload.status).toBe(201);

    const listed = await b.get<{ kind: string; text?: string; file?: { url: string } }[]>(
      `/executions/${id}/annotations`,
    );
    expect(listed.body.map((x) => x.kind)).toEqual(['comment', 'attachment']);
    expect(listed.body[0]!.text).toBe('via A');
    const file = await fetch(b.baseUrl + listed.body[1]!.file!.url, {
      headers: { authorization: `Bearer ${tokenOf('carol')}` },
    });
    expect(file.status).toBe(200);
    expect(await file.text()).toBe('release notes\n');
  });

  it("streams a running command's log through a gateway on another host than the worker", async () => {
    const name = uniqueName('shared-log');
    await a.pipeline({
      name,
      stages: [
        {
          name: 'S',
          actions: [
            { name: 'a', type: 'command', run: 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 0.4; done' },
          ],
        },
      ],
    });
    const id = await a.trigger(name);
    const { res, text, statusAtFirstLine } = await b.followLog(id, 'S', 'a', 'line 1\n');
    expect(res.status).toBe(200);
    expect(statusAtFirstLine).toBe('InProgress');
    expect(text).toMatch(/line 1\n[^]*line 8\n=== \S+ exited with code 0\n$/);
    // Read whole, after the end, through the other gateway: the same bytes.
    expect((await a.get<string>(`/executions/${id}/logs/S/a`)).text).toBe(text);
  });

  it('answer 503 with Retry-After while the database is unreachable, and recover by themselves', async () => {
    const name = uniqueName('shared-down');
    await a.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'echo hi' }] }] });
    const id = await a.trigger(name);
    await a.waitFor(id);
    expect((await c.get(`/executions/${id}/annotations`)).status).toBe(200);
    proxy.cut();
    try {
      for (const path of [`/executions/${id}/annotations`, `/executions/${id}/logs/S/a`]) {
        const down = await c.get(path);
        expect(down.status).toBe(503);
        expect(down.contentType).toMatch(/problem\+json/);
        expect(down.text).toContain("Paso's database did not answer");
      }
      const raw = await fetch(`${c.baseUrl}/executions/${id}/annotations`, {
        headers: { authorization: `Bearer ${tokenOf('carol')}` },
      });
      expect(raw.headers.get('retry-after')).toBe('5');
      const refused = await c.as('bob').post(`/executions/${id}/annotations`, { kind: 'comment', text: 'lost?' });
      expect(refused.status).toBe(503);
    } finally {
      proxy.restore();
    }
    await expect.poll(async () => (await c.get(`/executions/${id}/annotations`)).status, { timeout: 20_000 }).toBe(200);
    expect((await c.get<string>(`/executions/${id}/logs/S/a`)).text).toContain('hi\n');
  });
});
