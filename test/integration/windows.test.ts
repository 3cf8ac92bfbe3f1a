/**
 * Deployment windows and change freezes through the real gateway and coordinator: a stage shut by its
 * calendar holds arrivals (`for: "WINDOW"`, with when it opens) and lets them in by itself at the opening,
 * on a durable timer. Window hours are minutes apart, so the timing is shown with a freeze of seconds; the
 * calendar arithmetic (days, time zones, daylight saving) is unit-tested in test/unit/calendar.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { Api, uniqueName } from '../support/api.js';
import { Gates } from '../support/gates.js';

const api = new Api();
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 100 });
const deployState = async (name: string) =>
  (await api.get<PipelineState>(`/pipelines/${name}/state`)).body.stages.find((s) => s.name === 'Deploy')!;

describe('change freezes', () => {
  it('hold arrivals until the freeze ends, then let them in by themselves, in order', async () => {
    const name = uniqueName('freeze');
    const gates = new Gates();
    const ends = new Date(Math.ceil((Date.now() + 6_000) / 1000) * 1000).toISOString();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      freezes: [{ from: new Date(Date.now() - 60_000).toISOString(), to: ends, reason: 'release freeze' }],
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }] }],
    });
    const e1 = await api.trigger(name);
    const e2 = await api.trigger(name);
    for (const id of [e1, e2]) {
      await poll(async () => (await api.execution(id)).waiting).toEqual({
        stage: 'Deploy',
        for: 'WINDOW',
        opensAt: ends,
      });
    }
    expect(await deployState(name)).toMatchObject({
      window: { reason: 'release freeze', opensAt: ends },
      inbound: [
        { executionId: e1, waitingFor: 'WINDOW' },
        { executionId: e2, waitingFor: 'WINDOW' },
      ],
    });
    for (const id of [e1, e2]) expect((await api.waitFor(id)).status).toBe('Succeeded');
    const runs = gates.intervals('deploy');
    expect(runs.map((r) => r.executionId)).toEqual([e1, e2]);
    // Entered at the end of the freeze (the commands' own clocks), not before, and not long after.
    expect(runs[0]!.start).toBeGreaterThanOrEqual(Date.parse(ends));
    expect(runs[0]!.start).toBeLessThan(Date.parse(ends) + 3_000);
    expect((await deployState(name)).window).toBeNull();
  });
});

describe('deployment windows', () => {
  it('hold PARALLEL executions outside the window, saying when it opens; a held one can be stopped', async () => {
    const name = uniqueName('window');
    const gates = new Gates();
    // Open only on the day after tomorrow (UTC): shut now, opening at its midnight.
    const day = new Date(Date.now() + 2 * 86_400_000);
    const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day.getUTCDay()]!;
    const opensAt = `${day.toISOString().slice(0, 10)}T00:00:00.000Z`;
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: gates.script('build') }] },
        {
          name: 'Deploy',
          windows: [{ days: [weekday], from: '00:00', to: '23:00', timeZone: 'UTC' }],
          actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }],
        },
      ],
    });
    const e1 = await api.trigger(name);
    await poll(async () => (await api.execution(e1)).waiting).toEqual({ stage: 'Deploy', for: 'WINDOW', opensAt });
    expect(gates.started(e1, 'build')).toBe(true);
    expect(await deployState(name)).toMatchObject({ window: { reason: 'outside its deployment windows', opensAt } });
    expect((await api.as('bob').post(`/executions/${e1}/stop`, { abandon: false })).status).toBe(202);
    expect((await api.waitFor(e1, ['Stopped'])).stages[1]!.status).toBeNull();
    await poll(async () => (await deployState(name)).inbound).toEqual([]);
    expect(gates.started(e1, 'deploy')).toBe(false);
  });

  it('let an admin pass one waiting execution through, with a reason recorded on it', async () => {
    const name = uniqueName('window-pass');
    const gates = new Gates();
    const day = new Date(Date.now() + 2 * 86_400_000);
    const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][day.getUTCDay()]!;
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        {
          name: 'Deploy',
          windows: [{ days: [weekday], from: '00:00', to: '23:00', timeZone: 'UTC' }],
          actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }],
        },
      ],
    });
    const e1 = await api.trigger(name);
    const e2 = await api.trigger(name);
    await poll(async () => (await api.execution(e2)).waiting?.for).toBe('WINDOW');
    const pass = (who: 'alice' | 'bob', id: string, body: object) =>
      api.as(who).post(`/executions/${id}/window-pass`, body);
    expect((await pass('bob', e2, { stage: 'Deploy', reason: 'hotfix' })).status).toBe(403);
    expect((await pass('alice', e2, { stage: 'Deploy' })).status).toBe(400);
    expect((await pass('alice', e2, { stage: 'Build', reason: 'hotfix' })).status).toBe(409);

    expect((await pass('alice', e2, { stage: 'Deploy', reason: 'hotfix for the outage' })).status).toBe(202);
    const view = await api.waitFor(e2);
    expect(view.status).toBe('Succeeded');
    expect(view.windowPasses).toEqual([
      { stage: 'Deploy', by: 'alice', reason: 'hotfix for the outage', at: expect.any(String) },
    ]);
    const timeline = (await api.get<{ type: string; by?: string }[]>(`/executions/${e2}/timeline`)).body;
    expect(timeline).toContainEqual(expect.objectContaining({ type: 'window-pass', by: 'alice' }));
    // Only the one let through: the other still waits for the window.
    expect((await api.execution(e1)).waiting?.for).toBe('WINDOW');
    expect(gates.started(e1, 'deploy')).toBe(false);
    await api.as('bob').post(`/executions/${e1}/stop`, { abandon: false });
  });

  it('are refused with 400 and the path when they cannot be read', async () => {
    const name = uniqueName('window-bad');
    const r = await api.as('alice').put<{ errors: { path: string }[] }>(`/pipelines/${name}`, {
      name,
      stages: [
        {
          name: 'Deploy',
          windows: [{ from: '09:00', to: '16:00', timeZone: 'Europe/Atlantis' }],
          actions: [{ name: 'a', type: 'command', run: 'true' }],
        },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e) => e.path)).toEqual(['stages[0].windows[0].timeZone']);
  });
});
