/**
 * Named locks (resource groups) through the real gateway, coordinators and the `paso-named-locks` workflow:
 * two pipelines that name the same lock deploy one at a time, in order, each command given its fencing
 * token; stages that name the same locks in opposite orders all finish; shared holders run together while an
 * exclusive request waits; `newest-first` supersedes older waiters; a stopped waiter leaves, and a holder
 * terminated from Temporal gives its lock back within seconds. The rule table is unit-tested in
 * test/unit/named-lock-table.test.ts. The test configuration declares the locks (test/support/users.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LockInfo } from '../../src/api/schemas.js';
import { namedLocksWorkflowId } from '../../src/shared/named-locks.js';
import { executionWorkflowId } from '../../src/shared/temporal.js';
import { Api, uniqueName } from '../support/api.js';
import { disjoint, Gates } from '../support/gates.js';

const api = new Api();
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });
const lock = async (name: string) => (await api.get<LockInfo>(`/locks/${encodeURIComponent(name)}`)).body;
const waiting = async (id: string) => (await api.execution(id)).waiting;
let client: Client;

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await client.connection.close();
});

/** A one-stage pipeline whose Deploy stage takes `locks` and runs `run`. */
function deployPipeline(name: string, locks: unknown[], run: string, executionMode = 'PARALLEL') {
  return api.pipeline({
    name,
    executionMode,
    stages: [{ name: 'Deploy', locks, actions: [{ name: 'ship', type: 'command', run }] }],
  });
}

describe('named locks', () => {
  it('let two pipelines deploy to one environment one at a time, in order, each with a larger fencing token', async () => {
    const gates = new Gates();
    const tokens = path.join(gates.dir, 'tokens');
    const run = `echo "$PASO_EXECUTION_ID $PASO_LOCK_TOKEN_ENV_PROD" >> ${tokens}; ${gates.script('deploy', { gated: true })}`;
    const web = uniqueName('web');
    const api2 = uniqueName('api');
    await deployPipeline(web, ['env:prod'], run, 'QUEUED');
    await deployPipeline(api2, ['env:prod'], run, 'PARALLEL');

    const w1 = await api.trigger(web);
    await poll(() => gates.started(w1, 'deploy')).toBe(true);
    const a1 = await api.trigger(api2);
    const w2 = await api.trigger(web);
    await poll(() => waiting(a1)).toEqual({ stage: 'Deploy', for: 'LOCK', lock: 'env:prod', heldBy: [w1] });
    // w2 first waits for its own pipeline's stage lock, which w1 holds: the stage lock is always taken first.
    await poll(() => waiting(w2)).toEqual({ stage: 'Deploy', for: 'STAGE_LOCK' });
    const prod = await lock('env:prod');
    expect(prod).toMatchObject({
      name: 'env:prod',
      order: 'fifo',
      declared: true,
      description: 'the production environment',
      holders: [{ executionId: w1, stage: 'Deploy', mode: 'exclusive', token: prod.token }],
      waiters: [{ executionId: a1, stage: 'Deploy', mode: 'exclusive', position: 1, with: [] }],
    });
    // Every declared lock is listed, free ones too.
    const all = (await api.get<{ locks: LockInfo[] }>('/locks')).body.locks;
    expect(all.map((l) => l.name)).toEqual(expect.arrayContaining(['env:prod', 'locks-a', 'locks-newest']));
    expect(all.find((l) => l.name === 'locks-newest')).toMatchObject({ order: 'newest-first', declared: true });

    gates.open(w1, 'deploy');
    expect((await api.waitFor(w1)).status).toBe('Succeeded');
    // w2 now holds its stage and waits for env:prod, which a1 (asked earlier) holds.
    await poll(() => waiting(w2)).toEqual({ stage: 'Deploy', for: 'LOCK', lock: 'env:prod', heldBy: [a1] });
    const state = (await api.get<{ stages: { holders: string[] }[] }>(`/pipelines/${web}/state`)).body;
    expect(state.stages[0]!.holders).toEqual([w2]);
    for (const id of [a1, w2]) {
      await poll(() => gates.started(id, 'deploy')).toBe(true);
      gates.open(id, 'deploy');
      expect((await api.waitFor(id)).status).toBe('Succeeded');
    }
    const runs = gates.intervals('deploy');
    expect(runs.map((r) => r.executionId)).toEqual([w1, a1, w2]);
    expect(disjoint(runs)).toBe(true);
    const given = readFileSync(tokens, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(given.map(([id]) => id)).toEqual([w1, a1, w2]);
    const numbers = given.map(([, token]) => Number(token));
    expect(numbers[0]).toBe(prod.token);
    expect(numbers).toEqual([numbers[0], numbers[0]! + 1, numbers[0]! + 2]);
    await poll(async () => (await lock('env:prod')).holders).toEqual([]);
  });

  it('never deadlock stages that name the same two locks in opposite orders', async () => {
    const gates = new Gates();
    const one = uniqueName('ab');
    const two = uniqueName('ba');
    await deployPipeline(one, ['locks-a', 'locks-b'], gates.script('both', { sleep: 0.3 }));
    await deployPipeline(two, ['locks-b', 'locks-a'], gates.script('both', { sleep: 0.3 }));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await api.trigger(one), await api.trigger(two));
    for (const id of ids) expect((await api.waitFor(id, ['Succeeded', 'Failed'], 60_000)).status).toBe('Succeeded');
    const runs = gates.intervals('both');
    expect(runs).toHaveLength(6);
    expect(disjoint(runs)).toBe(true);
    expect((await lock('locks-a')).waiters).toEqual([]);
  });

  it('let shared holders run together while an exclusive request waits, then the exclusive one alone', async () => {
    const gates = new Gates();
    const smoke = uniqueName('smoke');
    const deploy = uniqueName('deploy');
    await deployPipeline(smoke, [{ name: 'locks-shared', mode: 'shared' }], gates.script('smoke', { gated: true }));
    await deployPipeline(deploy, ['locks-shared'], gates.script('deploy'));
    const s1 = await api.trigger(smoke);
    const s2 = await api.trigger(smoke);
    for (const id of [s1, s2]) await poll(() => gates.started(id, 'smoke')).toBe(true);
    const d1 = await api.trigger(deploy);
    await poll(() => waiting(d1)).toEqual({ stage: 'Deploy', for: 'LOCK', lock: 'locks-shared', heldBy: [s1, s2] });
    expect((await lock('locks-shared')).holders.map((h) => [h.executionId, h.mode])).toEqual([
      [s1, 'shared'],
      [s2, 'shared'],
    ]);
    gates.open(s1, 'smoke');
    expect((await api.waitFor(s1)).status).toBe('Succeeded');
    await poll(() => waiting(d1)).toEqual({ stage: 'Deploy', for: 'LOCK', lock: 'locks-shared', heldBy: [s2] });
    gates.open(s2, 'smoke');
    expect((await api.waitFor(d1)).status).toBe('Succeeded');
    const deployRun = gates.intervals('deploy')[0]!;
    expect(Math.max(...gates.intervals('smoke').map((r) => r.end))).toBeLessThanOrEqual(deployRun.start);
  });

  it('newest-first: a newer execution waiting supersedes the older waiter', async () => {
    const gates = new Gates();
    const name = uniqueName('newest');
    await deployPipeline(name, ['locks-newest'], gates.script('deploy', { gated: true }));
    const e1 = await api.trigger(name);
    await poll(() => gates.started(e1, 'deploy')).toBe(true);
    const e2 = await api.trigger(name);
    await poll(async () => (await lock('locks-newest')).waiters.map((w) => w.executionId)).toEqual([e2]);
    const e3 = await api.trigger(name);
    expect((await api.waitFor(e2, ['Superseded'])).stages[0]!.status).toBeNull();
    await poll(async () => (await lock('locks-newest')).waiters.map((w) => w.executionId)).toEqual([e3]);
    gates.open(e1, 'deploy');
    await poll(() => gates.started(e3, 'deploy')).toBe(true);
    gates.open(e3, 'deploy');
    expect((await api.waitFor(e3)).status).toBe('Succeeded');
    expect(gates.started(e2, 'deploy')).toBe(false);
  });

  it('free a stopped waiter at once, and a holder terminated from Temporal within seconds', async () => {
    const gates = new Gates();
    const name = uniqueName('lockwatch');
    await deployPipeline(name, ['locks-watch'], gates.script('deploy', { gated: true }));
    const e1 = await api.trigger(name);
    await poll(() => gates.started(e1, 'deploy')).toBe(true);
    const e2 = await api.trigger(name);
    // (PARALLEL executions ask for the lock as they start: e3 is triggered once e2 waits, for a known order.)
    await poll(async () => (await lock('locks-watch')).waiters.map((w) => w.executionId)).toEqual([e2]);
    const e3 = await api.trigger(name);
    await poll(async () => (await lock('locks-watch')).waiters.map((w) => w.executionId)).toEqual([e2, e3]);

    expect((await api.as('bob').post(`/executions/${e2}/stop`, { abandon: false })).status).toBe(202);
    expect((await api.waitFor(e2, ['Stopped'])).stages[0]!.status).toBeNull();
    await poll(async () => (await lock('locks-watch')).waiters.map((w) => w.executionId)).toEqual([e3]);

    const terminated = Date.now();
    await client.workflow.getHandle(executionWorkflowId(e1)).terminate('named-locks test: the holder is gone');
    await expect.poll(() => gates.started(e3, 'deploy'), { timeout: 20_000, interval: 100 }).toBe(true);
    console.log(`named locks: the next entered ${Date.now() - terminated} ms after the holder was terminated`);
    gates.open(e3, 'deploy');
    expect((await api.waitFor(e3)).status).toBe('Succeeded');
  });

  it('carry on after paso-named-locks is terminated: holders, waiters and tokens are recovered', async () => {
    const gates = new Gates();
    const tokens = path.join(gates.dir, 'tokens');
    const run = `echo "$PASO_EXECUTION_ID $PASO_LOCK_TOKEN_LOCKS_RECOVER" >> ${tokens}; ${gates.script('deploy', { gated: true })}`;
    const name = uniqueName('lockrecover');
    await deployPipeline(name, ['locks-recover'], run);
    const e1 = await api.trigger(name);
    await poll(() => gates.started(e1, 'deploy')).toBe(true);
    const e2 = await api.trigger(name);
    // (PARALLEL executions ask for the lock as they start: e3 is triggered once e2 waits, for a known order.)
    await poll(async () => (await lock('locks-recover')).waiters.map((w) => w.executionId)).toEqual([e2]);
    const e3 = await api.trigger(name);
    await poll(async () => (await lock('locks-recover')).waiters.map((w) => w.executionId)).toEqual([e2, e3]);

    await client.workflow
      .getHandle(namedLocksWorkflowId('paso-test'))
      .terminate('named-locks test: terminated by an operator');
    // While it is gone, e1 ends (its release finds no workflow) and e3 is stopped.
    gates.open(e1, 'deploy');
    expect((await api.waitFor(e1)).status).toBe('Succeeded');
    expect((await api.as('bob').post(`/executions/${e3}/stop`, { abandon: false })).status).toBe(202);
    expect((await api.waitFor(e3, ['Stopped'])).status).toBe('Stopped');
    // The next request starts a new run, which recovers: e1 and e3 moved on, e2 is next, e4 waits behind it.
    const e4 = await api.trigger(name);
    await poll(() => gates.started(e2, 'deploy')).toBe(true);
    await poll(async () => (await lock('locks-recover')).waiters.map((w) => w.executionId)).toEqual([e4]);
    for (const id of [e2, e4]) {
      await poll(() => gates.started(id, 'deploy')).toBe(true);
      gates.open(id, 'deploy');
      expect((await api.waitFor(id)).status).toBe('Succeeded');
    }
    const given = readFileSync(tokens, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(given.map(([id]) => id)).toEqual([e1, e2, e4]);
    // The recovered run counts on from its own start time: larger than any token given before, never reused.
    const [t1, t2, t4] = given.map(([, token]) => Number(token));
    expect(t2).toBeGreaterThan(t1!);
    expect(t4).toBe(t2! + 1);
  });

  it('hold the lock through a rollback, so the next deployment waits for the undeploy', async () => {
    const gates = new Gates();
    const name = uniqueName('lockrb');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      rollbackOnFailure: true,
      stages: [
        {
          name: 'Deploy',
          locks: ['locks-rollback'],
          actions: [
            {
              name: 'ship',
              type: 'command',
              run: 'true',
              rollback: gates.script('undeploy', { sleep: 1 }),
              runOrder: 1,
            },
            { name: 'verify', type: 'command', run: 'test "$PASO_EXECUTION_ID" != "$FAIL_ID"', runOrder: 2 },
          ],
        },
      ],
      variables: { FAIL_ID: 'none' },
    });
    const e1 = await api.trigger(name, { variables: { FAIL_ID: `${name}-1` } });
    await poll(async () => (await lock('locks-rollback')).holders.map((h) => h.executionId)).toEqual([e1]);
    const e2 = await api.trigger(name);
    expect((await api.waitFor(e1)).status).toBe('Failed');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    const undo = gates.intervals('undeploy')[0]!;
    const e2Started = Date.parse((await api.execution(e2)).stages[0]!.startedAt!);
    expect(e2Started).toBeGreaterThanOrEqual(undo.end);
  });

  it('refuse a definition naming an undeclared lock, with its path; unknown and malformed names', async () => {
    const name = uniqueName('undeclared');
    const r = await api.as('alice').put(`/pipelines/${name}`, {
      name,
      stages: [
        { name: 'Deploy', locks: ['env:prod', 'env:moon'], actions: [{ name: 'a', type: 'command', run: 'true' }] },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.contentType).toContain('application/problem+json');
    expect(r.body).toMatchObject({
      errors: [{ path: 'stages[0].locks[1]', message: `no lock "env:moon" is declared in the config's locks` }],
    });
    const twice = await api.as('alice').put(`/pipelines/${name}`, {
      name,
      stages: [
        {
          name: 'Deploy',
          locks: ['locks-a', { name: 'locks-a', mode: 'shared' }],
          actions: [{ name: 'a', type: 'command', run: 'true' }],
        },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body).toMatchObject({ errors: [{ path: 'stages[0].locks[1]', message: 'named twice' }] });
    expect((await api.get('/locks/env:moon')).status).toBe(404);
    const bad = await api.get('/locks/%20nope');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: [{ path: 'params.name' }] });
  });
});
