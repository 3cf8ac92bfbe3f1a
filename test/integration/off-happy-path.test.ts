/**
 * Off the happy path (issue 15): what an operator may not do with variables, where CHECK runs, a rollback
 * that holds its stage, retries raced against newer executions, and stops that meet rollbacks and traps.
 * Over HTTP as users act, and through the Temporal client as an operator of Temporal would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExecutionInput } from '../../src/shared/execution.js';
import { definitionSchemas } from '../../src/shared/definition.js';
import { Api, uniqueName } from '../support/api.js';
import { Gates } from '../support/gates.js';
import { PasoProcess } from '../support/paso-process.js';

const api = new Api();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paso-offpath-'));
const poll = <T>(fn: () => Promise<T> | T, timeout = 30_000) =>
  expect.poll(() => Promise.resolve(fn()), { timeout, interval: 100 });
const pathsOf = (body: unknown) => ((body as { errors?: { path: string }[] }).errors ?? []).map((e) => e.path);

let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(() => client?.connection.close());

describe('variables cannot change how commands run', () => {
  /** A script that sources nothing itself: whatever BASH_ENV names would run before it. */
  const bashPipeline = (name: string, dir: string) => ({
    name,
    executionMode: 'PARALLEL',
    variables: { TARGET: 'staging' },
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: `bash -c 'echo ran > ${dir}/ran'` }] }],
  });

  it('refuses a trigger that sets a variable the pipeline does not declare, creating nothing', async () => {
    const name = uniqueName('undeclared');
    const dir = tmp();
    await api.pipeline(bashPipeline(name, dir));
    const r = await api.as('bob').post(`/pipelines/${name}/executions`, { variables: { TARGET: 'prod', OTHER: 'x' } });
    expect(r.status).toBe(400);
    expect(r.contentType).toMatch(/problem\+json/);
    expect(pathsOf(r.body)).toEqual(['variables.OTHER']);
    expect(JSON.stringify(r.body)).toContain('declared: TARGET');
    // Nothing was created: the next execution is number 1.
    expect(await api.trigger(name, { variables: { TARGET: 'prod' } })).toBe(`${name}-1`);
  });

  it('refuses BASH_ENV, LD_PRELOAD, PATH, NODE_OPTIONS and their kind in triggers and in definitions', async () => {
    const name = uniqueName('behaviour');
    const dir = tmp();
    const planted = path.join(dir, 'evil.sh');
    writeFileSync(planted, `touch ${dir}/pwned\n`);
    const names = ['BASH_ENV', 'ENV', 'LD_PRELOAD', 'NODE_OPTIONS', 'PATH', 'IFS', 'SHELLOPTS', 'PS4', 'PASO_STAGE'];

    const definition = await api.as('alice').put(`/pipelines/${name}`, {
      ...bashPipeline(name, dir),
      variables: Object.fromEntries(names.map((n) => [n, planted])),
    });
    expect(definition.status).toBe(400);
    expect(pathsOf(definition.body).sort()).toEqual(names.map((n) => `variables.${n}`).sort());

    await api.pipeline(bashPipeline(name, dir));
    const trigger = await api.as('bob').post(`/pipelines/${name}/executions`, {
      variables: Object.fromEntries(names.map((n) => [n, planted])),
    });
    expect(trigger.status).toBe(400);
    expect(pathsOf(trigger.body).sort()).toEqual(names.map((n) => `variables.${n}`).sort());
    expect(existsSync(`${dir}/pwned`)).toBe(false);
  });

  it('drops such variables at run time even from an execution started by hand through Temporal', async () => {
    const name = uniqueName('by-hand');
    const dir = tmp();
    const planted = path.join(dir, 'evil.sh');
    writeFileSync(planted, `touch ${dir}/pwned\n`);
    const definition = definitionSchemas().pipelineDefinition.parse(bashPipeline(name, dir));
    await api.pipeline(bashPipeline(name, dir));
    const input: ExecutionInput = {
      executionId: `${name}-99`,
      pipeline: name,
      pipelineVersion: 1,
      definition,
      variables: { TARGET: 'x', BASH_ENV: planted, PATH: dir, LD_PRELOAD: planted },
      sourceRevisions: {},
      trigger: { type: 'manual', by: 'temporal-operator', at: new Date().toISOString() },
    };
    await client.workflow.start('execution', { workflowId: input.executionId, taskQueue: 'paso-test', args: [input] });
    const view = await api.waitFor(input.executionId);
    expect(view.status).toBe('Succeeded');
    expect(readFileSync(`${dir}/ran`, 'utf8')).toBe('ran\n');
    expect(existsSync(`${dir}/pwned`)).toBe(false);
    const log = await api.get<string>(`/executions/${input.executionId}/logs/S/a`);
    expect(log.text).toContain('variables not passed on (not allowed): BASH_ENV PATH LD_PRELOAD');
  });
});

describe('CHECK', () => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-check-gw-'));
  let gateway: PasoProcess;
  beforeAll(async () => {
    // A gateway alone, in front of the suite's worker: CHECK must run there, not here.
    gateway = await PasoProcess.startGateway({
      temporalAddress: inject('temporalAddress'),
      dataDir: path.join(workDir, 'data'),
      configFile: inject('configFile'),
      taskQueue: 'paso-test',
      logFile: path.join(workDir, 'gateway.log'),
    });
  });
  afterAll(() => gateway?.stop());

  it('runs on a worker, not in the gateway that took the request', async () => {
    const name = uniqueName('check-where');
    const dir = tmp();
    await api.pipeline({
      name,
      variables: { TARGET: 'staging' },
      check: [
        {
          name: 'where',
          type: 'command',
          // Its parent (the supervisor) ends with it: the chain is written down while it runs.
          run: `ps -o args= -p $PPID > ${dir}/parent; ps -o ppid= -p $PPID > ${dir}/grandparent; test "$TARGET" != frozen`,
        },
      ],
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    const viaGateway = new Api(gateway.url);
    const refused = await viaGateway
      .as('bob')
      .post(`/pipelines/${name}/executions`, { variables: { TARGET: 'frozen' } });
    expect(refused.status).toBe(422);
    // The check's shell runs under a supervisor that is a child of the worker process (the suite's `main.js`).
    expect(readFileSync(`${dir}/parent`, 'utf8')).toMatch(/paso-supervisor|supervisor\.js/); // native or Node
    const worker = Number(readFileSync(`${dir}/grandparent`, 'utf8'));
    expect(worker).not.toBe(gateway.pid);
    expect(execFileSync('ps', ['-o', 'args=', '-p', String(worker)], { encoding: 'utf8' })).toContain('main.js');
    const runs = client.workflow.list({ query: `WorkflowType = 'check' AND PasoPipeline = '${name}'` });
    await poll(async () => {
      const ids: string[] = [];
      for await (const run of runs) ids.push(run.workflowId);
      return ids.length;
    }).toBeGreaterThan(0);
    expect((await viaGateway.as('bob').post(`/pipelines/${name}/executions`, {})).status).toBe(201);
  });
});

describe('rollback', () => {
  it('runs while the failed execution still holds the stage: the next one enters after it', async () => {
    const name = uniqueName('rollback-lock');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      rollbackOnFailure: true,
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'deploy',
              type: 'command',
              run: gates.script('deploy', { gated: true }),
              rollback: gates.script('undeploy', { sleep: 2 }),
              runOrder: 1,
            },
            { name: 'health', type: 'command', run: 'test "$PASO_EXECUTION_ID" != "$FAILING"', runOrder: 2 },
          ],
        },
      ],
      variables: { FAILING: `${name}-1` },
    });
    const first = await api.trigger(name);
    await poll(() => gates.started(first, 'deploy')).toBe(true);
    const second = await api.trigger(name);
    gates.open(second, 'deploy');
    gates.open(first, 'deploy');
    const failed = await api.waitFor(first, ['Failed']);
    expect(failed.rollback).toMatchObject({ status: 'Succeeded' });
    expect((await api.waitFor(second)).status).toBe('Succeeded');
    const undeploy = gates.intervals('undeploy').find((i) => i.executionId === first)!;
    const next = gates.intervals('deploy').find((i) => i.executionId === second)!;
    expect(next.start).toBeGreaterThanOrEqual(undeploy.end);
  });

  it('cannot be stopped halfway', async () => {
    const name = uniqueName('rollback-stop');
    const gates = new Gates();
    await api.pipeline({
      name,
      rollbackOnFailure: true,
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'deploy',
              type: 'command',
              run: 'true',
              rollback: gates.script('undo', { gated: true }),
              runOrder: 1,
            },
            { name: 'health', type: 'command', run: 'exit 1', runOrder: 2 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    await poll(() => gates.started(id, 'undo')).toBe(true);
    for (const abandon of [false, true]) {
      const r = await api.as('bob').post<{ detail: string }>(`/executions/${id}/stop`, { abandon });
      expect(r.status).toBe(409);
      expect(r.body.detail).toMatch(/rolling back/);
    }
    gates.open(id, 'undo');
    const view = await api.waitFor(id, ['Failed']);
    expect(view.rollback).toMatchObject({ status: 'Succeeded' });
    expect(view.stop).toBeNull();
  });
});

describe('retry raced against newer executions', () => {
  it('never runs an older revision in a stage after a newer one, however the race goes', async () => {
    for (const mode of ['SUPERSEDED', 'QUEUED'] as const) {
      const name = uniqueName(`race-${mode.toLowerCase()}`);
      const dir = tmp();
      const gates = new Gates();
      await api.pipeline({
        name,
        executionMode: mode,
        stages: [
          {
            name: 'Deploy',
            actions: [{ name: 'deploy', type: 'command', run: `${gates.script('deploy')}; test ! -e ${dir}/fail` }],
          },
        ],
      });
      const outcomes: string[] = [];
      for (let round = 0; round < 6; round++) {
        writeFileSync(`${dir}/fail`, '');
        const older = await api.trigger(name);
        await api.waitFor(older, ['Failed']);
        rmSync(`${dir}/fail`);
        // The newer execution and the older's retry, nearly at once, the retry a little later each round.
        const [newer, retried] = await Promise.all([
          api.trigger(name),
          new Promise((r) => setTimeout(r, round * 40)).then(() =>
            api.as('bob').post(`/executions/${older}/retry`, { stage: 'Deploy', mode: 'ALL_ACTIONS' }),
          ),
        ]);
        expect([202, 409]).toContain(retried.status);
        await api.waitFor(newer, ['Succeeded']);
        const after = await api.waitFor(older, ['Succeeded', 'Superseded', 'Failed']);
        outcomes.push(`${retried.status}:${after.status}`);
        if (after.status !== 'Succeeded') expect(after.overtakenBy).toBe(newer);
        // In the stage, runs are ordered by execution number: the older never runs after the newer.
        const order = gates.intervals('deploy').map((i) => Number(i.executionId.split('-').pop()));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      console.log(`${mode} retry races (retry answer:older's end): ${outcomes.join(' ')}`);
    }
  });
});

describe('retry queued behind a newer execution', () => {
  it('is superseded when its turn comes, never run after the newer one (QUEUED, transition disabled)', async () => {
    const name = uniqueName('retry-queued');
    const dir = tmp();
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        { name: 'Build', actions: [{ name: 'build', type: 'command', run: 'true' }] },
        {
          name: 'Deploy',
          actions: [{ name: 'deploy', type: 'command', run: `${gates.script('deploy')}; test ! -e ${dir}/fail` }],
        },
      ],
    });
    writeFileSync(`${dir}/fail`, '');
    const older = await api.trigger(name);
    await api.waitFor(older, ['Failed']);
    rmSync(`${dir}/fail`);
    const freeze = { enabled: false, reason: 'freeze' };
    expect((await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, freeze)).status).toBe(200);
    const newer = await api.trigger(name);
    await poll(async () => (await api.execution(newer)).waiting?.for).toBe('TRANSITION');
    // Accepted: nothing has entered Deploy since the failure. It queues behind the newer one.
    expect(
      (await api.as('bob').post(`/executions/${older}/retry`, { stage: 'Deploy', mode: 'ALL_ACTIONS' })).status,
    ).toBe(202);
    await poll(async () => (await api.execution(older)).waiting?.for).toBe('TRANSITION');
    expect((await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true })).status).toBe(200);
    expect((await api.waitFor(newer)).status).toBe('Succeeded');
    const view = await api.waitFor(older, ['Superseded', 'Succeeded']);
    expect(view).toMatchObject({ status: 'Superseded', overtakenBy: newer });
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([older, newer]);
  });
});

describe('QUEUED entry order', () => {
  it('enters the first stage in the order Paso accepted the triggers (execution numbers)', async () => {
    const name = uniqueName('queued-order');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [{ name: 'Deploy', actions: [{ name: 'deploy', type: 'command', run: gates.script('deploy') }] }],
    });
    const ids = await Promise.all(Array.from({ length: 40 }, () => api.trigger(name)));
    for (const id of ids) await api.waitFor(id, ['Succeeded'], 120_000);
    const entered = gates.intervals('deploy').map((i) => Number(i.executionId.split('-').pop()));
    expect(entered).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe('a stop meets a trap', () => {
  it('refuses a trap retry while stopping, and a retry sent as a signal does not run the command again', async () => {
    const name = uniqueName('trap-stop');
    const gates = new Gates();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'check', type: 'command', run: `${gates.script('check')}; exit 1`, onError: 'trap', runOrder: 1 },
            { name: 'after', type: 'command', run: gates.script('after'), runOrder: 2 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    await poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('trap');
    expect((await api.as('bob').post(`/executions/${id}/stop`, { abandon: false })).status).toBe(202);
    const refused = await api.as('bob').post<{ detail: string }>(`/executions/${id}/trap`, {
      stage: 'Deploy',
      action: 'check',
      decision: 'retry',
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/stopping/);

    await client.workflow.getHandle(id).signal('trap', {
      stage: 'Deploy',
      action: 'check',
      decision: 'retry',
      by: 'bob',
      roles: ['operator'],
    });
    const view = await api.waitFor(id, ['Stopped']);
    expect(view.stages[0]!.actions[0]).toMatchObject({ status: 'Failed', attempt: 1 });
    expect(view.stages[0]!.actions[0]!.error).toMatch(/not retried: the execution is stopping/);
    expect(gates.intervals('check')).toHaveLength(1);
    expect(gates.started(id, 'after')).toBe(false);
  });
});

describe('malformed messages sent through Temporal', () => {
  /** Whether the workflow's tasks are failing (a wedged workflow retries its task forever). */
  const failingTasks = async (workflowId: string) =>
    ((await client.workflow.getHandle(workflowId).describe()).raw.pendingWorkflowTask?.attempt ?? 0) > 1;

  it('are dropped (signals) or refused (Updates), and the execution and its coordinator go on', async () => {
    const name = uniqueName('malformed');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Release',
          actions: [{ name: 'go', type: 'approval', approvers: { users: ['dave'], groups: ['ops'] } }],
        },
      ],
    });
    const id = await api.trigger(name);
    await poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('approval');
    const execution = client.workflow.getHandle(id);
    const coordinator = client.workflow.getHandle(`pipeline:${name}`);
    await execution.signal('approve', { stage: 'Release', action: 'go', decision: 'approve', by: 'x', groups: 'ops' });
    await execution.signal('trap');
    await execution.signal('stageGranted', { stage: 42 });
    await coordinator.signal('withdraw');
    await coordinator.signal('requestStage', { executionId: '../etc', stage: 'Release' });
    await coordinator.signal('leaveStage', { executionId: id, stage: 'Release', outcome: 'Exploded' });

    const stop = execution.executeUpdate('stop', { args: [{ abandon: 'yes', by: 'x' }] });
    await expect(stop).rejects.toMatchObject({ cause: { message: expect.stringMatching(/abandon/) } });
    const put = coordinator.executeUpdate('putDefinition', { args: [{ definition: { name, stages: 'no' }, by: 'x' }] });
    await expect(put).rejects.toMatchObject({ cause: { message: expect.stringMatching(/definition\.stages/) } });

    // Still the same: waiting for the approval, holding its lock, with healthy workflow tasks.
    const view = await api.execution(id);
    expect(view.stages[0]!.actions[0]).toMatchObject({ waitingFor: 'approval', approvals: [] });
    expect(
      (await api.get<{ stages: { lockedBy: string }[] }>(`/pipelines/${name}/state`)).body.stages[0]!.lockedBy,
    ).toBe(id);
    expect(await failingTasks(id)).toBe(false);
    expect(await failingTasks(`pipeline:${name}`)).toBe(false);
    const approved = await api.as('dave').post(`/executions/${id}/approvals`, {
      stage: 'Release',
      action: 'go',
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    expect((await api.waitFor(id)).status).toBe('Succeeded');
    expect(await api.trigger(name)).toBe(`${name}-2`);
  });
});

describe('a long-lived execution', () => {
  it('keeps its history small through 50 decisions and 100 Talkback runs', async () => {
    const name = uniqueName('long-lived');
    await api.pipeline({
      name,
      variables: { GREETING: 'hi' },
      stages: [
        {
          name: 'Release',
          actions: [{ name: 'go', type: 'approval', approvers: { users: [], groups: ['ops'] }, required: 50 }],
        },
      ],
    });
    const id = await api.trigger(name);
    await poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('approval');
    const handle = client.workflow.getHandle(id);
    for (let i = 1; i < 50; i++) {
      const outcome = await handle.executeUpdate('decideApproval', {
        args: [{ stage: 'Release', action: 'go', decision: 'approve', by: `approver-${i}`, groups: ['ops'] }],
      });
      expect(outcome).toEqual({ executionId: id, status: 'InProgress', waitingFor: 'approval' });
    }
    for (let batch = 0; batch < 10; batch++) {
      const runs = await Promise.all(
        Array.from({ length: 10 }, () =>
          api.as('bob').post<{ id: string }>(`/executions/${id}/talkback`, { name: 'checkup' }),
        ),
      );
      expect(runs.map((r) => r.status)).toEqual(Array(10).fill(202));
      await poll(async () => (await api.execution(id)).talkback.filter((t) => t.status === 'InProgress').length).toBe(
        0,
      );
    }
    const view = await api.execution(id);
    expect(view.talkback).toHaveLength(20);
    expect(view.talkback.at(-1)!.id).toBe('tb-100');
    const info = (await handle.describe()).raw.workflowExecutionInfo!;
    console.log(
      `history after 49 decisions and 100 Talkback runs: ${Number(info.historyLength)} events, ${Number(info.historySizeBytes)} bytes`,
    );
    expect(Number(info.historySizeBytes)).toBeLessThan(1_000_000);
    await handle.executeUpdate('decideApproval', {
      args: [{ stage: 'Release', action: 'go', decision: 'approve', by: 'approver-50', groups: ['ops'] }],
    });
    expect((await api.waitFor(id)).status).toBe('Succeeded');
  });
});

describe('cancelled from Temporal', () => {
  it('gives the lock back only once every command of the group has ended', async () => {
    const name = uniqueName('cancel-group');
    const dir = tmp();
    const stubborn = `${dir}/stubborn`;
    const firstOnly = (then: string, otherwise = 'true') =>
      `if [ "$PASO_EXECUTION_ID" = "${name}-1" ]; then ${then}; else ${otherwise}; fi`;
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        {
          name: 'Deploy',
          actions: [
            // The first's ignores SIGTERM: it is gone only with the SIGKILL that follows 2 s later. The
            // second's looks at what still runs when it enters.
            {
              name: 'stubborn',
              type: 'command',
              run: firstOnly(`trap '' TERM; touch ${stubborn}; sleep 31`, `ps -eo args > ${dir}/seen`),
              runOrder: 1,
            },
            { name: 'quick', type: 'command', run: firstOnly('sleep 32'), runOrder: 1 },
          ],
        },
      ],
    });
    const first = await api.trigger(name);
    await poll(() => existsSync(stubborn)).toBe(true);
    const second = await api.trigger(name);
    await poll(async () => (await api.execution(second)).waiting?.for).toBe('STAGE_LOCK');
    await client.workflow.getHandle(first).cancel();
    expect((await api.waitFor(second)).status).toBe('Succeeded');
    const processes = readFileSync(`${dir}/seen`, 'utf8').split('\n');
    expect(processes).toContain('ps -eo args');
    expect(processes).not.toContain('sleep 31');
    expect((await api.waitFor(first, ['Cancelled'])).stages[0]!.actions.map((a) => a.status)).toEqual([
      'Abandoned',
      'Abandoned',
    ]);
  });
});
