/**
 * Stopping (wait / abandon) and retrying, through the real gateway: commands are real processes, and the
 * tests look at what they left behind (markers, processes) as well as at what Paso reports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecutionView } from '../../src/shared/execution-view.js';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { Api, uniqueName } from '../support/api.js';
import { Gates, twoStages } from '../support/gates.js';

const api = new Api();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paso-stop-'));
const poll = <T>(fn: () => Promise<T> | T, timeout = 30_000) =>
  expect.poll(() => Promise.resolve(fn()), { timeout, interval: 100 });
const stop = (id: string, body: object) => api.as('bob').post<{ status: string }>(`/executions/${id}/stop`, body);
const retry = (id: string, body: object) => api.as('bob').post<{ status: string }>(`/executions/${id}/retry`, body);
const deployState = async (name: string) =>
  (await api.get<PipelineState>(`/pipelines/${name}/state`)).body.stages.find((s) => s.name === 'Deploy')!;
/** Lines of `ps` that mention `needle`: a command still running. */
const running = (needle: string) =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle));

describe('stop and wait', () => {
  it('lets the running action finish, starts nothing after it, and releases the lock', async () => {
    const name = uniqueName('stop-wait');
    const dir = tmp();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'slow', type: 'command', run: `touch ${dir}/started; sleep 3; touch ${dir}/finished`, runOrder: 1 },
            { name: 'next', type: 'command', run: `touch ${dir}/next`, runOrder: 2 },
          ],
        },
        { name: 'Verify', actions: [{ name: 'check', type: 'command', run: `touch ${dir}/verified` }] },
      ],
    });
    const id = await api.trigger(name);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    const r = await stop(id, { abandon: false, reason: 'wrong build' });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('Stopping');
    const stopping = await api.execution(id);
    expect(stopping.status).toBe('Stopping');
    expect(stopping.stages[0]!.status).toBe('Stopping');
    expect((await stop(id, { abandon: false })).status).toBe(409);

    const view = await api.waitFor(id, ['Stopped']);
    expect(existsSync(`${dir}/finished`)).toBe(true);
    expect(view.stages[0]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Succeeded' }, { status: null }] });
    expect(view.stages[1]!.status).toBeNull();
    expect(view.stop).toMatchObject({ by: 'bob', abandon: false, reason: 'wrong build' });
    expect(view.retryableStage).toBe('Deploy');
    expect(existsSync(`${dir}/next`)).toBe(false);
    expect(existsSync(`${dir}/verified`)).toBe(false);
    expect((await deployState(name)).lockedBy).toBeNull();
  });
});

describe('stop and abandon', () => {
  it('kills the running command at once, marks it Abandoned, and lets the next execution in', async () => {
    const name = uniqueName('abandon');
    const dir = tmp();
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'ship',
              type: 'command',
              // The first execution runs a long command; the ones after record that they ran.
              run: `if [ "$PASO_EXECUTION_ID" = "${name}-1" ]; then touch ${dir}/started; sleep 60.123; touch ${dir}/marker; else ${gates.script('deploy')}; fi`,
            },
          ],
        },
      ],
    });
    const e1 = await api.trigger(name);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    const e2 = await api.trigger(name);
    await poll(async () => (await api.execution(e2)).waiting?.for).toBe('STAGE_LOCK');

    const asked = Date.now();
    expect((await stop(e1, { abandon: true, reason: 'stuck' })).status).toBe(202);
    const view = await api.waitFor(e1, ['Stopped'], 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(view.stages[0]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Abandoned' }] });
    expect(running('sleep 60.123')).toEqual([]);
    await poll(() => gates.started(e2, 'deploy')).toBe(true);
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(existsSync(`${dir}/marker`)).toBe(false);
  });

  it('kills a command that ignores SIGTERM within 5 seconds', async () => {
    const name = uniqueName('sigterm');
    const dir = tmp();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'stubborn',
              type: 'command',
              run: `trap '' TERM; touch ${dir}/started; sleep 60.456; touch ${dir}/marker`,
            },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    const asked = Date.now();
    await stop(id, { abandon: true });
    await api.waitFor(id, ['Stopped'], 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(running('sleep 60.456')).toEqual([]);
    expect(existsSync(`${dir}/marker`)).toBe(false);
  });

  it('may follow stop and wait (escalation)', async () => {
    const name = uniqueName('escalate');
    const dir = tmp();
    await api.pipeline({
      name,
      stages: [
        { name: 'Deploy', actions: [{ name: 'long', type: 'command', run: `touch ${dir}/started; sleep 60.789` }] },
      ],
    });
    const id = await api.trigger(name);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    expect((await stop(id, { abandon: false })).status).toBe(202);
    expect((await stop(id, { abandon: false })).status).toBe(409);
    const asked = Date.now();
    expect((await stop(id, { abandon: true })).status).toBe(202);
    const view = await api.waitFor(id, ['Stopped'], 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(view.stop).toMatchObject({ abandon: true });
    expect(view.stages[0]!.actions[0]!.status).toBe('Abandoned');
    expect(running('sleep 60.789')).toEqual([]);
    expect((await stop(id, { abandon: true })).status).toBe(409);
  });
});

describe("stopped during the command that gives its stage on (QUEUED: the stage's last command asks for the next)", () => {
  /** A QUEUED pipeline whose Build ends in one gated command; A in Build, B queued behind it. */
  async function aInBuild(label: string) {
    const name = uniqueName(label);
    const gates = new Gates();
    await api.pipeline(twoStages(name, gates, 'QUEUED', 'build'));
    const a = await api.trigger(name);
    await poll(() => gates.started(a, 'build')).toBe(true);
    const b = await api.trigger(name);
    await poll(async () => (await api.execution(b)).waiting?.stage).toBe('Build');
    return { name, gates, a, b };
  }

  it('stop and wait: the command ends (and asks for Deploy), the execution stops and gives its Deploy place back', async () => {
    const { name, gates, a, b } = await aInBuild('stop-hand-off');
    expect((await stop(a, { abandon: false })).status).toBe(202);
    gates.open(a, 'build');
    const stopped = await api.waitFor(a, ['Stopped']);
    expect(stopped.stages[0]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Succeeded' }] });
    expect(stopped.stages[1]!.status).toBeNull();
    // B goes through both stages: A, stopped, neither holds Deploy nor waits in front of it.
    gates.open(b, 'build');
    expect((await api.waitFor(b)).status).toBe('Succeeded');
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([b]);
    expect(await deployState(name)).toMatchObject({ lockedBy: null, holders: [], inbound: [] });
  });

  it('stop and abandon: the command is killed, the execution stops, and the next one goes through every stage', async () => {
    const { name, gates, a, b } = await aInBuild('abandon-hand-off');
    expect((await stop(a, { abandon: true })).status).toBe(202);
    const stopped = await api.waitFor(a, ['Stopped']);
    expect(stopped.stages[0]!.actions[0]!.status).toBe('Abandoned');
    gates.open(b, 'build');
    expect((await api.waitFor(b)).status).toBe('Succeeded');
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([b]);
    expect(await deployState(name)).toMatchObject({ lockedBy: null, holders: [], inbound: [] });
  });
});

describe('escalating stop (stop and wait, abandon after abandonAfterSeconds)', () => {
  const oneCommand = async (prefix: string, run: string) => {
    const name = uniqueName(prefix);
    await api.pipeline({ name, stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run }] }] });
    return api.trigger(name);
  };

  it('abandons (kills) a command still running when the time is up, and shows when', async () => {
    const dir = tmp();
    const id = await oneCommand('esc-kill', `touch ${dir}/started; sleep 60.321; touch ${dir}/marker`);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    const asked = Date.now();
    const r = await stop(id, { abandon: false, abandonAfterSeconds: 2, reason: 'deploy hangs' });
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('Stopping');
    const stopping = await api.execution(id);
    expect(stopping.status).toBe('Stopping');
    expect(stopping.stop).toMatchObject({ abandon: false, reason: 'deploy hangs' });
    expect(Date.parse(stopping.stop!.abandonAt!) - Date.parse(stopping.stop!.at)).toBe(2_000);

    const view = await api.waitFor(id, ['Stopped'], 15_000);
    const took = Date.now() - asked;
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(8_000);
    expect(view.stages[0]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Abandoned' }] });
    expect(view.stop).toMatchObject({ abandon: true, abandonAt: stopping.stop!.abandonAt });
    expect(view.retryableStage).toBe('Deploy');
    expect(running('sleep 60.321')).toEqual([]);
    expect(existsSync(`${dir}/marker`)).toBe(false);
    const timeline = (await api.get<{ type: string }[]>(`/executions/${id}/timeline`)).body;
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['stop-wait', 'stop-abandon']));
  });

  it('never abandons a command that finishes within the time: Stopped after it', async () => {
    const dir = tmp();
    const id = await oneCommand('esc-done', `touch ${dir}/started; sleep 1; touch ${dir}/finished`);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    expect((await stop(id, { abandon: false, abandonAfterSeconds: 4 })).status).toBe(202);
    const view = await api.waitFor(id, ['Stopped'], 10_000);
    expect(view.stages[0]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Succeeded' }] });
    expect(existsSync(`${dir}/finished`)).toBe(true);
    // Past the time it would have abandoned: nothing changed.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(view.stop!.abandonAt!) + 1_000 - Date.now())));
    const later = await api.execution(id);
    expect(later.status).toBe('Stopped');
    expect(later.stop).toMatchObject({ abandon: false });
    expect(later.stages[0]!.actions[0]!.status).toBe('Succeeded');
  });

  it('may still be escalated at once by an explicit stop and abandon', async () => {
    const dir = tmp();
    const id = await oneCommand('esc-now', `touch ${dir}/started; sleep 60.654`);
    await poll(() => existsSync(`${dir}/started`)).toBe(true);
    expect((await stop(id, { abandon: false, abandonAfterSeconds: 600 })).status).toBe(202);
    const asked = Date.now();
    expect((await stop(id, { abandon: true, reason: 'now' })).status).toBe(202);
    const view = await api.waitFor(id, ['Stopped'], 10_000);
    expect(Date.now() - asked).toBeLessThan(5_000);
    expect(view.stop).toMatchObject({ abandon: true, reason: 'now', abandonAt: null });
    expect(view.stages[0]!.actions[0]!.status).toBe('Abandoned');
    expect(running('sleep 60.654')).toEqual([]);
  });

  it('refuses a bad abandonAfterSeconds with 400 and its path', async () => {
    const dir = tmp();
    const id = await oneCommand('esc-bad', `touch ${dir}/started; sleep 5`);
    for (const body of [
      { abandon: true, abandonAfterSeconds: 5 },
      { abandon: false, abandonAfterSeconds: 0 },
      { abandon: false, abandonAfterSeconds: 'soon' },
      { abandon: false, abandonAfterSeconds: 1.5 },
    ]) {
      const r = await api.as('bob').post<{ errors?: { path: string }[] }>(`/executions/${id}/stop`, body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(r.body.errors!.map((e) => e.path)).toEqual([expect.stringMatching(/abandonAfterSeconds$/)]);
    }
    expect((await api.execution(id)).status).toBe('InProgress');
    await stop(id, { abandon: true });
  });
});

describe('inbound executions', () => {
  it('stopped while a transition is disabled, leave the list at once and never continue', async () => {
    const name = uniqueName('inbound-stop');
    const gates = new Gates();
    await api.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'true' }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }] },
      ],
    });
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false, reason: 'freeze' });
    const id = await api.trigger(name);
    await poll(async () => (await api.execution(id)).waiting?.for).toBe('TRANSITION');
    expect((await stop(id, { abandon: false })).status).toBe(202);
    const view = await api.waitFor(id, ['Stopped'], 10_000);
    expect(view.waiting).toBeNull();
    expect(view.retryableStage).toBeNull();
    expect((await deployState(name)).inbound).toEqual([]);
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(gates.started(id, 'deploy')).toBe(false);
    expect((await api.execution(id)).status).toBe('Stopped');
    expect((await retry(id, { stage: 'Deploy', mode: 'ALL_ACTIONS' })).status).toBe(409);
  });

  it('QUEUED: stopped while waiting for the next stage, it has left the one before, leaves the queue, never runs', async () => {
    const name = uniqueName('queued-stop');
    const gates = new Gates();
    await api.pipeline(twoStages(name, gates, 'QUEUED'));
    const stages = async () => (await api.get<PipelineState>(`/pipelines/${name}/state`)).body.stages;
    const holder = await api.trigger(name);
    await poll(() => gates.started(holder, 'deploy')).toBe(true);
    // It asked for Deploy and left Build in one signal: it waits in Deploy's queue, and Build is free.
    const stopped = await api.trigger(name);
    await poll(async () => (await api.execution(stopped)).waiting).toEqual({ stage: 'Deploy', for: 'STAGE_LOCK' });
    expect((await stages()).find((s) => s.name === 'Build')!.lockedBy).toBeNull();
    expect((await stop(stopped, { abandon: false })).status).toBe(202);
    expect((await api.waitFor(stopped, ['Stopped'], 10_000)).waiting).toBeNull();
    expect((await deployState(name)).inbound).toEqual([]);

    // The next one passes Build and takes the stopped one's turn at Deploy.
    const next = await api.trigger(name);
    await poll(async () => (await deployState(name)).inbound.map((w) => w.executionId)).toEqual([next]);
    gates.open(holder, 'deploy');
    await poll(() => gates.started(next, 'deploy')).toBe(true);
    gates.open(next, 'deploy');
    expect((await api.waitFor(next)).status).toBe('Succeeded');
    expect(gates.started(stopped, 'deploy')).toBe(false);
    expect((await stages()).map((s) => [s.name, s.lockedBy, s.inbound.length])).toEqual([
      ['Build', null, 0],
      ['Deploy', null, 0],
    ]);
  });
});

describe('retry', () => {
  /** Stage Deploy: `ok` counts its runs; `flaky` fails until `fixed` exists; `after` runs once they pass. */
  function retryPipeline(name: string, dir: string) {
    return {
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'ok', type: 'command', run: `echo run >> ${dir}/ok-runs`, runOrder: 1 },
            { name: 'flaky', type: 'command', run: `test -e ${dir}/fixed`, runOrder: 1 },
            { name: 'after', type: 'command', run: `echo run >> ${dir}/after-runs`, runOrder: 2 },
          ],
        },
        { name: 'Verify', actions: [{ name: 'check', type: 'command', run: 'true' }] },
      ],
    };
  }
  const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length : 0);

  it('FAILED_ACTIONS reruns the failed and never-run actions, keeps the succeeded ones, and goes on', async () => {
    const name = uniqueName('retry-failed');
    const dir = tmp();
    await api.pipeline(retryPipeline(name, dir));
    const id = await api.trigger(name);
    const failed = await api.waitFor(id, ['Failed']);
    expect(failed.retryableStage).toBe('Deploy');
    expect(failed.retryableUntil).not.toBeNull();

    expect((await retry(id, { stage: 'Verify', mode: 'FAILED_ACTIONS' })).status).toBe(409);
    expect((await retry(id, { stage: 'Nope', mode: 'FAILED_ACTIONS' })).status).toBe(404);
    writeFileSync(`${dir}/fixed`, '');
    const r = await retry(id, { stage: 'Deploy', mode: 'FAILED_ACTIONS' });
    expect(r.status).toBe(202);

    const view = await api.waitFor(id, ['Succeeded']);
    const actions = Object.fromEntries(view.stages[0]!.actions.map((a) => [a.name, [a.status, a.attempt]]));
    expect(actions).toEqual({ ok: ['Succeeded', 1], flaky: ['Succeeded', 2], after: ['Succeeded', 1] });
    expect(view.stages[1]!.status).toBe('Succeeded');
    expect(lines(`${dir}/ok-runs`)).toBe(1);
    expect(lines(`${dir}/after-runs`)).toBe(1);
    expect((await retry(id, { stage: 'Deploy', mode: 'FAILED_ACTIONS' })).status).toBe(409);
  });

  it('stays possible for the retry window only; then the execution ends for good', async () => {
    const name = uniqueName('retry-window');
    await api.pipeline({
      name,
      retryWindowSeconds: 2,
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'false' }] }],
    });
    const id = await api.trigger(name);
    const failed = await api.waitFor(id, ['Failed']);
    expect(Date.parse(failed.retryableUntil!) - Date.parse(failed.endedAt!)).toBeLessThanOrEqual(2_000);
    await poll(async () => (await api.execution(id)).retryableStage, 15_000).toBeNull();
    const r = await retry(id, { stage: 'Deploy', mode: 'ALL_ACTIONS' });
    expect(r.status).toBe(409);
    expect((r.body as unknown as { detail: string }).detail).toMatch(/retry window/);
    expect((await api.execution(id)).status).toBe('Failed');
  });

  it('ALL_ACTIONS reruns the whole stage', async () => {
    const name = uniqueName('retry-all');
    const dir = tmp();
    await api.pipeline(retryPipeline(name, dir));
    const id = await api.trigger(name);
    await api.waitFor(id, ['Failed']);
    writeFileSync(`${dir}/fixed`, '');
    expect((await retry(id, { stage: 'Deploy', mode: 'ALL_ACTIONS' })).status).toBe(202);
    const view: ExecutionView = await api.waitFor(id, ['Succeeded']);
    expect(view.stages[0]!.actions.map((a) => a.attempt)).toEqual([2, 2, 1]);
    expect(lines(`${dir}/ok-runs`)).toBe(2);
  });

  it('is refused while in progress and for a superseded execution', async () => {
    const name = uniqueName('retry-409');
    const gates = new Gates();
    await api.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'true' }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { gated: true }) }] },
      ],
    });
    const e1 = await api.trigger(name);
    await poll(() => gates.started(e1, 'deploy')).toBe(true);
    expect((await retry(e1, { stage: 'Deploy', mode: 'ALL_ACTIONS' })).status).toBe(409);
    const e2 = await api.trigger(name);
    await poll(async () => (await api.execution(e2)).waiting?.for).toBe('STAGE_LOCK');
    const e3 = await api.trigger(name);
    await api.waitFor(e2, ['Superseded']);
    expect((await retry(e2, { stage: 'Deploy', mode: 'ALL_ACTIONS' })).status).toBe(409);
    expect((await stop(e2, { abandon: true })).status).toBe(409);
    gates.open(e1, 'deploy');
    gates.open(e3, 'deploy');
    await api.waitFor(e3, ['Succeeded']);
  });

  it('SUPERSEDED: is refused once a newer execution has entered the failed stage', async () => {
    const name = uniqueName('overtaken');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          // The first execution fails; later ones succeed.
          actions: [{ name: 'ship', type: 'command', run: `[ "$PASO_EXECUTION_ID" != "${name}-1" ]` }],
        },
      ],
    });
    const e1 = await api.trigger(name);
    expect((await api.waitFor(e1, ['Failed'])).retryableStage).toBe('Deploy');
    const e2 = await api.trigger(name);
    await api.waitFor(e2, ['Succeeded']);
    await poll(async () => (await api.execution(e1)).overtakenBy).toBe(e2);
    const r = await retry(e1, { stage: 'Deploy', mode: 'FAILED_ACTIONS' });
    expect(r.status).toBe(409);
    expect((r.body as unknown as { detail: string }).detail).toContain(e2);
    expect((await api.execution(e1)).retryableStage).toBeNull();
  });

  it('QUEUED: is refused once a newer execution has entered the failed stage, as in SUPERSEDED', async () => {
    const name = uniqueName('retry-queue');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'ship',
              type: 'command',
              run: `${gates.script('deploy', { gated: true })}; [ "$PASO_EXECUTION_ID" != "${name}-1" ]`,
            },
          ],
        },
      ],
    });
    const e1 = await api.trigger(name);
    gates.open(e1, 'deploy');
    expect((await api.waitFor(e1, ['Failed'])).retryableStage).toBe('Deploy');
    const e2 = await api.trigger(name);
    await poll(() => gates.started(e2, 'deploy')).toBe(true);
    await poll(async () => (await api.execution(e1)).overtakenBy).toBe(e2);
    const refused = await retry(e1, { stage: 'Deploy', mode: 'FAILED_ACTIONS' });
    expect(refused.status).toBe(409);
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([e1, e2]);
  });

  it('re-enters through the coordinator: the retried stage waits at a disabled transition like any entry', async () => {
    const name = uniqueName('retry-transition');
    const dir = tmp();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: `test -e ${dir}/fixed` }] }],
    });
    const e1 = await api.trigger(name);
    await api.waitFor(e1, ['Failed']);
    writeFileSync(`${dir}/fixed`, '');
    const freeze = { enabled: false, reason: 'look first' };
    expect((await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, freeze)).status).toBe(200);
    expect((await retry(e1, { stage: 'Deploy', mode: 'FAILED_ACTIONS' })).status).toBe(202);
    await poll(async () => (await api.execution(e1)).waiting).toEqual({ stage: 'Deploy', for: 'TRANSITION' });
    expect((await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true })).status).toBe(200);
    expect((await api.waitFor(e1, ['Succeeded'])).stages[0]!.actions[0]!.attempt).toBe(2);
  });
});
