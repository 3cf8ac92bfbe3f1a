/** Clarive's manual steps through the real gateway: approvals, pauses, traps, rollback, notifications. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActionView, ExecutionView } from '../../src/shared/execution-view.js';
import { approveSignal } from '../../src/shared/messages.js';
import { PasoWaiting } from '../../src/shared/temporal.js';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import type { TestUser } from '../support/users.js';

const api = new Api();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paso-manual-'));
const action = (view: ExecutionView, stage: string, name: string): ActionView =>
  view.stages.find((s) => s.name === stage)!.actions.find((a) => a.name === name)!;
const waitingFor = (id: string, stage: string, name: string, what: string) =>
  expect
    .poll(async () => action(await api.execution(id), stage, name).waitingFor, { timeout: 30_000, interval: 100 })
    .toBe(what);
const approve = (user: TestUser, id: string, decision = 'approve', comment?: string) =>
  api.as(user).post(`/executions/${id}/approvals`, { stage: 'Release', action: 'go-live', decision, comment });

let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(() => client?.connection.close());

function approvalPipeline(name: string, dir: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    rollbackOnFailure: true,
    stages: [
      {
        name: 'Build',
        actions: [{ name: 'compile', type: 'command', run: 'true', rollback: `touch ${dir}/rolled-back` }],
      },
      {
        name: 'Release',
        actions: [
          {
            name: 'go-live',
            type: 'approval',
            runOrder: 1,
            approvers: { users: ['dave'], groups: ['release-managers'] },
            required: 2,
            message: 'Check staging',
            url: 'https://staging.example.com',
            ...extra,
          },
          { name: 'ship', type: 'command', run: `touch ${dir}/shipped`, runOrder: 2 },
        ],
      },
    ],
  };
}

describe('approvals', () => {
  it('need the required number of distinct allowed people, never the triggerer, and are recorded', async () => {
    const name = uniqueName('approve');
    const dir = tmp();
    await api.pipeline(approvalPipeline(name, dir));
    const id = await api.trigger(name); // by bob, who is in release-managers
    await waitingFor(id, 'Release', 'go-live', 'approval');
    const waiting = action(await api.execution(id), 'Release', 'go-live');
    expect(waiting).toMatchObject({
      status: 'InProgress',
      request: { message: 'Check staging', url: 'https://staging.example.com' },
    });

    expect((await approve('carol', id)).status).toBe(403); // not an approver
    expect((await approve('bob', id)).status).toBe(403); // triggered it
    expect((await approve('alice', id, 'approve', 'staging looks fine')).status).toBe(200);
    const twice = await approve('alice', id);
    expect(twice.status).toBe(409); // counts once
    expect(action(await api.execution(id), 'Release', 'go-live').status).toBe('InProgress');
    expect(existsSync(`${dir}/shipped`)).toBe(false);
    expect((await approve('dave', id)).status).toBe(200);

    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(action(view, 'Release', 'go-live').approvals).toEqual([
      { by: 'alice', decision: 'approve', comment: 'staging looks fine', at: expect.any(String) },
      { by: 'dave', decision: 'approve', comment: '', at: expect.any(String) },
    ]);
    expect(existsSync(`${dir}/shipped`)).toBe(true);
    expect((await approve('dave', id)).status).toBe(409); // nothing waits any more

    const hooks = (await (await fetch(`${inject('hookUrl')}/received`)).json()) as Record<string, unknown>[];
    expect(hooks.find((h) => h.execution === id)).toMatchObject({
      event: 'approval-requested',
      pipeline: name,
      stage: 'Release',
      action: 'go-live',
      message: 'Check staging',
      url: 'https://staging.example.com',
      expiresAt: expect.any(String),
      reviewUrl: expect.stringContaining(`/executions/${id}`),
    });
  });

  it('a rejection fails the action and does not roll back, even with rollbackOnFailure', async () => {
    const name = uniqueName('reject');
    const dir = tmp();
    await api.pipeline(approvalPipeline(name, dir, { required: 1 }));
    const id = await api.trigger(name);
    await waitingFor(id, 'Release', 'go-live', 'approval');
    expect((await approve('dave', id, 'reject', 'not today')).status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Failed');
    expect(action(view, 'Release', 'go-live')).toMatchObject({ status: 'Failed', error: 'rejected by dave' });
    expect(view.rollback).toBeNull();
    expect(existsSync(`${dir}/rolled-back`)).toBe(false);
    expect(existsSync(`${dir}/shipped`)).toBe(false);
  });

  it('time out and fail (and, unlike a rejection, roll back)', async () => {
    const name = uniqueName('approval-timeout');
    const dir = tmp();
    await api.pipeline(approvalPipeline(name, dir, { timeoutSeconds: 2 }));
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Failed');
    expect(action(view, 'Release', 'go-live').error).toMatch(/timed out/);
    expect(view.rollback).toMatchObject({
      status: 'Succeeded',
      steps: [{ stage: 'Build', action: 'compile', status: 'Succeeded' }],
    });
    expect(existsSync(`${dir}/rolled-back`)).toBe(true);
  });

  it('can be given with a signal sent by the Temporal client, without the gateway', async () => {
    const name = uniqueName('approve-signal');
    const dir = tmp();
    await api.pipeline(approvalPipeline(name, dir, { required: 1 }));
    const id = await api.trigger(name);
    await waitingFor(id, 'Release', 'go-live', 'approval');
    const handle = client.workflow.getHandle(id);
    // Not an approver: ignored.
    await handle.signal(approveSignal, { stage: 'Release', action: 'go-live', decision: 'approve', by: 'carol' });
    await handle.signal(approveSignal, {
      stage: 'Release',
      action: 'go-live',
      decision: 'approve',
      by: 'dave',
      comment: 'via CLI',
    });
    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(action(view, 'Release', 'go-live').approvals.map((a) => [a.by, a.comment])).toEqual([['dave', 'via CLI']]);
  });
});

describe('pauses', () => {
  it('wait for an operator or an allowed user; viewers may not resume; the timeout fails them', async () => {
    const name = uniqueName('pause');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Hold',
          actions: [
            { name: 'ops-only', type: 'pause', runOrder: 1, message: 'check the dashboards' },
            { name: 'carol-too', type: 'pause', runOrder: 2, allowed: { users: ['carol'], groups: [] } },
            { name: 'forgotten', type: 'pause', runOrder: 3, timeoutSeconds: 2 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const resume = (user: TestUser, step: string) =>
      api.as(user).post(`/executions/${id}/resume`, { stage: 'Hold', action: step, comment: 'ok' });
    await waitingFor(id, 'Hold', 'ops-only', 'resume');
    expect((await resume('bob', 'carol-too')).status).toBe(409); // not paused yet
    expect((await resume('carol', 'ops-only')).status).toBe(403);
    expect((await resume('bob', 'ops-only')).status).toBe(200);
    await waitingFor(id, 'Hold', 'carol-too', 'resume');
    expect((await resume('carol', 'carol-too')).status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Failed');
    expect(view.stages[0]!.actions.map((a) => [a.name, a.status])).toEqual([
      ['ops-only', 'Succeeded'],
      ['carol-too', 'Succeeded'],
      ['forgotten', 'Failed'],
    ]);
    expect(action(view, 'Hold', 'ops-only').decisions).toEqual([
      { by: 'bob', decision: 'resume', comment: 'ok', at: expect.any(String) },
    ]);
    expect(action(view, 'Hold', 'forgotten').error).toMatch(/timed out/);
  });
});

describe('traps', () => {
  /** First and second succeed (with rollbacks that record their order); `check` fails until `fixed` exists. */
  function trapPipeline(name: string, dir: string, trapTimeoutSeconds = 3600) {
    return {
      name,
      rollbackOnFailure: true,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'first', type: 'command', run: 'true', rollback: `echo first >> ${dir}/rollbacks`, runOrder: 1 },
            { name: 'second', type: 'command', run: 'true', rollback: `echo second >> ${dir}/rollbacks`, runOrder: 2 },
            {
              name: 'check',
              type: 'command',
              run: `echo checking; test -e ${dir}/fixed`,
              onError: 'trap',
              trapTimeoutSeconds,
              runOrder: 3,
            },
          ],
        },
      ],
    };
  }
  const decide = (id: string, decision: string, user: TestUser = 'bob') =>
    api.as(user).post(`/executions/${id}/trap`, { stage: 'Deploy', action: 'check', decision });

  it('wait for a person instead of failing; retry after fixing the cause succeeds', async () => {
    const name = uniqueName('trap-retry');
    const dir = tmp();
    await api.pipeline(trapPipeline(name, dir));
    const id = await api.trigger(name);
    await waitingFor(id, 'Deploy', 'check', 'trap');
    const trapped = await api.execution(id);
    expect(trapped.status).toBe('InProgress');
    expect(action(trapped, 'Deploy', 'check')).toMatchObject({ status: 'InProgress', error: 'exited with code 1' });
    expect((await decide(id, 'retry', 'carol')).status).toBe(403);
    writeFileSync(`${dir}/fixed`, '');
    expect((await decide(id, 'retry')).status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(action(view, 'Deploy', 'check')).toMatchObject({ status: 'Succeeded', attempt: 2 });
    expect((await decide(id, 'retry')).status).toBe(409);
  });

  it('while a retried command runs, show it running and waiting for nobody, and refuse decisions', async () => {
    const name = uniqueName('trap-rerun');
    const dir = tmp();
    // Fails until `fixed` exists; then runs until `go` exists.
    const run = `test -e ${dir}/fixed || exit 1; while [ ! -e ${dir}/go ]; do sleep 0.1; done`;
    await api.pipeline({
      name,
      stages: [{ name: 'Deploy', actions: [{ name: 'check', type: 'command', run, onError: 'trap' }] }],
    });
    const id = await api.trigger(name);
    await waitingFor(id, 'Deploy', 'check', 'trap');
    writeFileSync(`${dir}/fixed`, '');
    expect((await decide(id, 'retry')).status).toBe(200);
    await expect.poll(async () => action(await api.execution(id), 'Deploy', 'check').attempt).toBe(2);
    expect(action(await api.execution(id), 'Deploy', 'check')).toMatchObject({
      status: 'InProgress',
      waitingFor: null,
      request: null,
      error: null,
    });
    expect((await decide(id, 'skip')).status).toBe(409);
    writeFileSync(`${dir}/go`, '');
    expect(action(await api.waitFor(id), 'Deploy', 'check')).toMatchObject({ status: 'Succeeded', attempt: 2 });
  });

  it('skip marks the action Skipped and goes on', async () => {
    const name = uniqueName('trap-skip');
    await api.pipeline(trapPipeline(name, tmp()));
    const id = await api.trigger(name);
    await waitingFor(id, 'Deploy', 'check', 'trap');
    expect((await decide(id, 'skip')).status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(action(view, 'Deploy', 'check').status).toBe('Skipped');
  });

  it('abort fails the execution and rolls back the succeeded actions, newest first', async () => {
    const name = uniqueName('trap-abort');
    const dir = tmp();
    await api.pipeline(trapPipeline(name, dir));
    const id = await api.trigger(name);
    await waitingFor(id, 'Deploy', 'check', 'trap');
    expect((await decide(id, 'abort')).status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Failed');
    expect(readFileSync(`${dir}/rollbacks`, 'utf8')).toBe('second\nfirst\n');
    expect(view.rollback).toMatchObject({
      status: 'Succeeded',
      steps: [
        { action: 'second', status: 'Succeeded' },
        { action: 'first', status: 'Succeeded' },
      ],
    });
    const log = await api.get(`/executions/${id}/logs/Deploy/second.rollback`);
    expect(log.status).toBe(200);
    expect(log.text).toContain('echo second');
  });

  it('abort by themselves after trapTimeoutSeconds', async () => {
    const name = uniqueName('trap-timeout');
    const dir = tmp();
    await api.pipeline(trapPipeline(name, dir, 2));
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Failed');
    expect(action(view, 'Deploy', 'check').error).toMatch(/trap timed out/);
    expect(readFileSync(`${dir}/rollbacks`, 'utf8')).toBe('second\nfirst\n');
  });
});

describe('CHECK', () => {
  it('refuses the request before the execution exists: 422 with each check, and nothing is created', async () => {
    const name = uniqueName('check');
    const dir = tmp();
    await api.pipeline({
      name,
      variables: { TARGET: 'staging' },
      check: [
        { name: 'policy', type: 'command', run: 'echo "TARGET is $TARGET"; test "$TARGET" != frozen', runOrder: 1 },
        { name: 'quota', type: 'command', run: 'true', runOrder: 1 },
        { name: 'later', type: 'command', run: `touch ${dir}/later`, runOrder: 2 },
      ],
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    const refused = await api
      .as('bob')
      .post<{ check: { name: string; status: string; output: string }[] }>(`/pipelines/${name}/executions`, {
        variables: { TARGET: 'frozen' },
      });
    expect(refused.status).toBe(422);
    expect(refused.contentType).toMatch(/problem\+json/);
    expect(refused.body.check).toEqual([
      { name: 'policy', status: 'Failed', output: 'TARGET is frozen\n(exited with code 1)' },
      { name: 'quota', status: 'Succeeded', output: '' },
      { name: 'later', status: 'NotRun', output: '' },
    ]);
    expect(existsSync(`${dir}/later`)).toBe(false);
    expect((await api.get(`/pipelines/${name}/executions`)).body).toEqual({ executions: [], nextCursor: null });

    // No execution number was used: the next accepted request gets the first one.
    expect(await api.trigger(name)).toBe(`${name}-1`);
    expect(existsSync(`${dir}/later`)).toBe(true);
  });
});

describe('what waits for people', () => {
  let gateway: PasoProcess;
  beforeAll(async () => {
    const dir = tmp();
    // A gateway that reads only the executions saying they wait (PasoWaiting): none by the scan of older ones.
    gateway = await PasoProcess.startGateway({
      temporalAddress: inject('temporalAddress'),
      dataDir: dir,
      configFile: inject('configFile'),
      taskQueue: 'paso-test',
      logFile: path.join(dir, 'gateway.log'),
      env: { PASO_WAITING_SCAN: '0' },
    });
  });
  afterAll(() => gateway?.stop());

  it('is said by the PasoWaiting search attribute while an approval, a pause or a trap waits, and found by it', async () => {
    const name = uniqueName('waiting');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Release',
          actions: [
            { name: 'go-live', type: 'approval', runOrder: 1, approvers: { users: ['dave'], groups: [] } },
            { name: 'hold', type: 'pause', runOrder: 2 },
            { name: 'check', type: 'command', run: 'exit 3', onError: 'trap', runOrder: 3 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const other = new Api(gateway.url);
    const listed = async (user: TestUser) =>
      (await other.as(user).get<{ decisions: { executionId: string; kind: string }[] }>('/waiting')).body.decisions
        .filter((d) => d.executionId === id)
        .map((d) => d.kind);
    const attribute = async () =>
      (await client.workflow.getHandle(id).describe()).typedSearchAttributes.get(PasoWaiting) ?? null;
    const found = async (kind: string) => {
      const ids: string[] = [];
      for await (const wf of client.workflow.list({ query: `PasoWaiting = '${kind}' AND PasoPipeline = '${name}'` }))
        ids.push(wf.workflowId);
      return ids;
    };
    const step = { stage: 'Release' };

    await expect.poll(() => listed('dave'), { timeout: 30_000, interval: 200 }).toEqual(['approval']);
    expect(await attribute()).toEqual(['approval']);
    await expect.poll(() => found('approval'), { timeout: 10_000 }).toEqual([id]);
    expect(
      (await api.as('dave').post(`/executions/${id}/approvals`, { ...step, action: 'go-live', decision: 'approve' }))
        .status,
    ).toBe(200);

    await expect.poll(() => listed('bob'), { timeout: 30_000, interval: 200 }).toEqual(['resume']);
    expect(await attribute()).toEqual(['resume']);
    expect(await listed('dave')).toEqual([]); // a viewer may not resume
    expect((await api.as('bob').post(`/executions/${id}/resume`, { ...step, action: 'hold' })).status).toBe(200);

    await expect.poll(() => listed('bob'), { timeout: 30_000, interval: 200 }).toEqual(['trap']);
    expect(await attribute()).toEqual(['trap']);
    await expect.poll(() => found('trap'), { timeout: 10_000 }).toEqual([id]);
    expect(
      (await api.as('bob').post(`/executions/${id}/trap`, { ...step, action: 'check', decision: 'skip' })).status,
    ).toBe(200);

    expect((await api.waitFor(id)).status).toBe('Succeeded');
    expect(await attribute()).toBeNull(); // nothing waits any more
    await expect.poll(() => found('trap'), { timeout: 10_000 }).toEqual([]);
  });

  it('is unset when the execution is cancelled from Temporal while people are asked something', async () => {
    const name = uniqueName('waiting-cancel');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Release',
          actions: [
            { name: 'one', type: 'approval', approvers: { users: ['dave'], groups: [] } },
            { name: 'two', type: 'pause' },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const attribute = async () =>
      (await client.workflow.getHandle(id).describe()).typedSearchAttributes.get(PasoWaiting) ?? null;
    await expect.poll(attribute, { timeout: 30_000, interval: 200 }).toEqual(['approval', 'resume']);
    await client.workflow.getHandle(id).cancel();
    expect((await api.waitFor(id, ['Cancelled'])).status).toBe('Cancelled');
    await expect.poll(attribute, { timeout: 10_000 }).toBeNull();
  });
});
