import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import { freePort } from '../support/ports.js';

const api = new Api();
const simple = (name: string) => ({
  name,
  stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
});

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

function expectProblem(reply: { status: number; contentType: string; body: unknown }, status: number) {
  expect(reply.status).toBe(status);
  expect(reply.contentType).toMatch(/^application\/problem\+json/);
  expect(reply.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  return reply.body as Problem;
}

describe('pipelines', () => {
  it('are created, versioned only when they change, read, listed and deleted', async () => {
    const name = uniqueName('crud');
    const created = await api.put(`/pipelines/${name}`, simple(name));
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name, version: 1 });

    const same = await api.put(`/pipelines/${name}`, simple(name));
    expect(same.status).toBe(200);
    expect(same.body).toEqual({ name, version: 1 });

    const changed = await api.put(`/pipelines/${name}`, { ...simple(name), executionMode: 'QUEUED' });
    expect(changed.body).toEqual({ name, version: 2 });

    const got = await api
      .as('carol')
      .get<{ definition: Record<string, unknown>; version: number }>(`/pipelines/${name}`);
    expect(got.status).toBe(200);
    expect(got.body.version).toBe(2);
    // Defaults are filled in: what is stored is what runs.
    expect(got.body.definition).toMatchObject({
      name,
      executionMode: 'QUEUED',
      rollbackOnFailure: false,
      variables: {},
    });
    expect(got.body.definition.stages).toEqual([
      {
        name: 'S',
        actions: [expect.objectContaining({ name: 'a', runOrder: 1, onError: 'fail', timeoutSeconds: 3600 })],
      },
    ]);

    await expect
      .poll(async () => (await api.get<{ name: string }[]>('/pipelines')).body.map((p) => p.name))
      .toContain(name);

    expect((await api.request('DELETE', `/pipelines/${name}`)).status).toBe(204);
    expectProblem(await api.get(`/pipelines/${name}`), 404);
    expectProblem(await api.as('bob').post(`/pipelines/${name}/executions`, {}), 404);
    await expect
      .poll(async () => (await api.get<{ name: string }[]>('/pipelines')).body.map((p) => p.name))
      .not.toContain(name);

    // Putting it again brings it back, and execution numbers go on where they were.
    const again = await api.put(`/pipelines/${name}`, simple(name));
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ name, version: 3 });
  });

  it('accept YAML', async () => {
    const name = uniqueName('yaml');
    const yaml = `name: ${name}\nstages:\n  - name: S\n    actions:\n      - { name: a, type: command, run: "echo hi" }\n`;
    const r = await api.put(`/pipelines/${name}`, yaml, { 'content-type': 'application/yaml' });
    expect(r.status).toBe(201);
    const bad = await api.put(`/pipelines/${name}`, 'stages: [', { 'content-type': 'application/yaml' });
    expect(expectProblem(bad, 400).detail).toMatch(/YAML/);
  });
});

describe('bad input', () => {
  it('an invalid definition answers 400 with the path of each problem', async () => {
    const name = uniqueName('invalid');
    const r = await api.put(`/pipelines/${name}`, {
      name,
      executionMode: 'SOMETIMES',
      stages: [
        { name: 'S', actions: [{ name: 'a', type: 'command' }] },
        { name: 'T', actions: [{ name: 'x', type: 'teleport' }] },
      ],
      check: [{ name: 'gate', type: 'approval', approvers: { users: ['bob'] } }],
    });
    const p = expectProblem(r, 400);
    const paths = p.errors!.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'executionMode',
        'stages[0].actions[0].run',
        'stages[1].actions[0].type',
        'check[0].type',
      ]),
    );
    expect(p.errors!.find((e) => e.path === 'check[0].type')!.message).toMatch(/only "command"/);
    expectProblem(await api.get(`/pipelines/${name}`), 404);
  });

  it('duplicate stage and action names are refused with their paths', async () => {
    const name = uniqueName('dups');
    const action = { name: 'a', type: 'command', run: 'true' };
    const r = await api.put(`/pipelines/${name}`, {
      name,
      stages: [
        { name: 'S', actions: [action, { ...action }] },
        { name: 'S', actions: [action] },
      ],
    });
    expect(expectProblem(r, 400).errors!.map((e) => e.path)).toEqual(['stages[0].actions[1].name', 'stages[1].name']);
  });

  it('a name in the body that differs from the path is refused', async () => {
    const r = await api.put(`/pipelines/${uniqueName('a')}`, simple('other'));
    expect(expectProblem(r, 400).errors).toEqual([{ path: 'name', message: expect.any(String) }]);
  });

  it('a bad pipeline name in the path is a 400 with its path', async () => {
    const p = expectProblem(await api.put('/pipelines/Bad_Name', simple('Bad_Name')), 400);
    expect(p.errors![0]!.path).toBe('params.name');
  });

  it('malformed JSON is a 400, an unknown content type a 415', async () => {
    expect(expectProblem(await api.put('/pipelines/x', '{"name":', {}), 400).detail).toMatch(/JSON/);
    expectProblem(await api.put('/pipelines/x', 'name=x', { 'content-type': 'text/plain' }), 415);
  });

  it('a body over the limit is a 413', async () => {
    const big = { name: 'big', description: 'x'.repeat(1_100_000), stages: [] };
    expectProblem(await api.put('/pipelines/big', big), 413);
  });

  it('a bad trigger body is a 400 with paths', async () => {
    const name = uniqueName('trig');
    await api.pipeline(simple(name));
    const r = await api
      .as('bob')
      .post(`/pipelines/${name}/executions`, { variables: { 'not a name': 1 }, extra: true });
    const paths = expectProblem(r, 400).errors!.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['variables.not a name', '']));
  });

  it('an idempotency key reused with another body is a 409', async () => {
    const name = uniqueName('idem409');
    await api.pipeline({ ...simple(name), variables: { A: '0' } });
    await api.trigger(name, { idempotencyKey: 'k', variables: { A: '1' } });
    const r = await api.as('bob').post(`/pipelines/${name}/executions`, { idempotencyKey: 'k', variables: { A: '2' } });
    expect(expectProblem(r, 409).detail).toMatch(/idempotencyKey/);
  });

  it('unknown pipelines, executions, stages and actions are 404s', async () => {
    const name = uniqueName('known');
    await api.pipeline(simple(name));
    const id = await api.trigger(name);
    await api.waitFor(id);
    expectProblem(await api.get('/pipelines/no-such-pipeline'), 404);
    expectProblem(await api.as('bob').post('/pipelines/no-such-pipeline/executions', {}), 404);
    expectProblem(await api.get('/pipelines/no-such-pipeline/executions'), 404);
    expectProblem(await api.get('/executions/no-such-pipeline-1'), 404);
    expectProblem(await api.get('/executions/not-an-execution-id'), 404);
    expectProblem(await api.get(`/executions/${id}/logs/Nope/a`), 404);
    expectProblem(await api.get(`/executions/${id}/logs/S/nope`), 404);
    expectProblem(await api.get('/no/such/route'), 404);
  });

  it('a bad query parameter is a 400', async () => {
    const name = uniqueName('q');
    await api.pipeline(simple(name));
    const p = expectProblem(await api.get(`/pipelines/${name}/executions?status=Sleeping&limit=0`), 400);
    expect(p.errors!.map((e) => e.path).sort()).toEqual(['query.limit', 'query.status']);
  });
});

describe('authentication and roles', () => {
  it('needs a known bearer token everywhere but healthz and openapi.json', async () => {
    expect((await api.as(null).get('/healthz')).status).toBe(200);
    expect((await api.as(null).get('/openapi.json')).status).toBe(200);
    expectProblem(await api.as(null).get('/pipelines'), 401);
    const forged = await fetch(`${api.baseUrl}/pipelines`, { headers: { authorization: 'Bearer nope-nope-nope' } });
    expect(forged.status).toBe(401);
  });

  it('lets viewers read, operators trigger, and only admins change pipelines', async () => {
    const name = uniqueName('roles');
    expectProblem(await api.as('bob').put(`/pipelines/${name}`, simple(name)), 403);
    expectProblem(await api.as('carol').put(`/pipelines/${name}`, simple(name)), 403);
    expect((await api.as('alice').put(`/pipelines/${name}`, simple(name))).status).toBe(201);
    expectProblem(await api.as('carol').post(`/pipelines/${name}/executions`, {}), 403);
    expectProblem(await api.as('carol').request('DELETE', `/pipelines/${name}`), 403);
    expect((await api.as('carol').get(`/pipelines/${name}`)).status).toBe(200);
    const triggered = await api.as('alice').post<{ executionId: string }>(`/pipelines/${name}/executions`, {});
    expect(triggered.status).toBe(201);
    // Identity comes from the token: the trigger is recorded as alice's, whatever the body says.
    const view = await api.waitFor(triggered.body.executionId);
    expect(view.trigger.by).toBe('alice');
  });
});

describe('the OpenAPI document', () => {
  it('describes every route with the schemas that validate requests', async () => {
    const doc = (
      await api.as(null).get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/openapi.json')
    ).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/chatops/slack/events',
      '/chatops/slack/interactions',
      '/executions/{id}',
      '/executions/{id}/annotations',
      '/executions/{id}/annotations/{annotationId}/file',
      '/executions/{id}/approvals',
      '/executions/{id}/logs/{stage}/{action}',
      '/executions/{id}/resume',
      '/executions/{id}/retry',
      '/executions/{id}/stop',
      '/executions/{id}/talkback',
      '/executions/{id}/timeline',
      '/executions/{id}/trap',
      '/executions/{id}/window-pass',
      '/healthz',
      '/locks',
      '/locks/{name}',
      '/me',
      '/metrics',
      '/openapi.json',
      '/pipelines',
      '/pipelines/{name}',
      '/pipelines/{name}/executions',
      '/pipelines/{name}/state',
      '/pipelines/{name}/transitions/{stage}',
      '/waiting',
    ]);
    expect(Object.keys(doc.paths['/pipelines/{name}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(JSON.stringify(doc)).toContain('"executionMode"');
  });
});

describe('when Temporal is unreachable', () => {
  let paso: PasoProcess;
  beforeAll(async () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-down-'));
    // A gateway process alone, pointed at a port where nothing listens.
    paso = await PasoProcess.startGateway({
      temporalAddress: `127.0.0.1:${await freePort()}`,
      dataDir: workDir,
      configFile: inject('configFile'),
      taskQueue: 'nowhere',
      logFile: path.join(workDir, 'gateway.log'),
    });
  });
  afterAll(() => paso?.stop());

  it('answers 503, never 500', async () => {
    const down = new Api(paso.url);
    expectProblem(await down.as(null).get('/healthz'), 503);
    expectProblem(await down.get('/pipelines'), 503);
    expectProblem(await down.get('/executions/web-1'), 503);
    expectProblem(await down.as('bob').post('/pipelines/web/executions', {}), 503);
    // Bad input is still answered as such without Temporal.
    expectProblem(await down.as('bob').post('/pipelines/web/executions', { nope: 1 }), 400);
  });
});

describe('a gateway against a real cluster', () => {
  it('refuses to start without a config file (the dev users are for the embedded default only)', async () => {
    const { execa } = await import('execa');
    const result = await execa(process.execPath, ['dist/src/gateway.js'], {
      env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: inject('temporalAddress'), PASO_PORT: String(await freePort()) },
      extendEnv: false,
      reject: false,
      timeout: 30_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/PASO_CONFIG/);
  });
});
