import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExecutionView } from '../../src/shared/execution-view.js';
import { scheduleId } from '../../src/activities/schedules.js';
import { Api, uniqueName } from '../support/api.js';

const api = new Api();
let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(() => client?.connection.close());

describe('schedule triggers', () => {
  it('become Temporal Schedules that start executions through the API path, and go when removed', async () => {
    const name = uniqueName('scheduled');
    const def = (triggers: { type: string; cron: string }[]) => ({
      name,
      triggers,
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'echo scheduled' }] }],
    });
    await api.pipeline(def([{ type: 'schedule', cron: '0 3 * * *' }]));
    const schedule = client.schedule.getHandle(scheduleId(name, 0));
    // What Temporal will do: its next runs are at 03:00 UTC.
    const nextRun = async () => (await schedule.describe()).info.nextActionTimes[0]!;
    expect((await nextRun()).toISOString()).toMatch(/T03:00:00\.000Z$/);

    // Fire it now, as the schedule would at 03:00.
    await schedule.trigger();
    const listed = async () =>
      (await api.get<{ executions: { executionId: string; status: string }[] }>(`/pipelines/${name}/executions`)).body
        .executions;
    await expect.poll(async () => (await listed()).length, { timeout: 30_000 }).toBe(1);
    const view: ExecutionView = await api.waitFor((await listed())[0]!.executionId);
    expect(view.status).toBe('Succeeded');
    expect(view.trigger).toMatchObject({ type: 'schedule', by: 'schedule' });

    await api.pipeline(def([{ type: 'schedule', cron: '30 4 * * 1' }]));
    const monday = await nextRun();
    expect([monday.getUTCDay(), monday.toISOString().slice(11, 16)]).toEqual([1, '04:30']);

    await api.pipeline(def([]));
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);

    await api.pipeline(def([{ type: 'schedule', cron: '0 5 * * *' }]));
    expect((await api.request('DELETE', `/pipelines/${name}`)).status).toBe(204);
    await expect(schedule.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('refuse an invalid cron when the definition is saved', async () => {
    const name = uniqueName('bad-cron');
    const r = await api.put(`/pipelines/${name}`, {
      name,
      triggers: [{ type: 'schedule', cron: '99 * * * *' }],
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    expect(r.status).toBe(400);
    expect((r.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['triggers[0].cron']);
  });
});

describe('pipeline PUTs and their schedules', () => {
  const def = (name: string, crons: string[]) => ({
    name,
    triggers: crons.map((cron) => ({ type: 'schedule', cron })),
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
  });
  /** The UTC time of day each of the pipeline's schedules fires at next, in schedule order. */
  const firingTimes = async (name: string) => {
    const times: string[] = [];
    for (let i = 0; i < 10; i++) {
      const next = await client.schedule
        .getHandle(scheduleId(name, i))
        .describe()
        .then(
          (d) => d.info.nextActionTimes[0]!.toISOString().slice(11, 16),
          (err: unknown) => {
            if (err instanceof ScheduleNotFoundError) return null;
            throw err;
          },
        );
      if (next) times.push(next);
    }
    return times;
  };
  const timeOf = (cron: string) => {
    const [minute, hour] = cron.split(' ').map(Number);
    return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  };

  it('leave the schedules of the last version, however many arrive at once', async () => {
    const name = uniqueName('concurrent-puts');
    await api.pipeline(def(name, []));
    const bodies = Array.from({ length: 8 }, (_, i) =>
      def(
        name,
        Array.from({ length: (i % 4) + 1 }, (_, j) => `${j} ${i} * * *`),
      ),
    );
    const replies = await Promise.all(
      bodies.map((b) => api.as('alice').put<{ version: number }>(`/pipelines/${name}`, b)),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(200));
    const latest = replies.reduce((a, b) => (b.body.version > a.body.version ? b : a));
    const lastBody = bodies[replies.indexOf(latest)]!;
    const current = await api.get<{ version: number; definition: { triggers: { cron: string }[] } }>(
      `/pipelines/${name}`,
    );
    expect(current.body.version).toBe(latest.body.version);
    expect(await firingTimes(name)).toEqual(lastBody.triggers.map((t) => timeOf(t.cron)));
  });
});

describe('two schedules of one pipeline firing at once', () => {
  it('both trigger an execution', async () => {
    const name = uniqueName('two-crons');
    await api.pipeline({
      name,
      // QUEUED, so that both run to the end: under SUPERSEDED the later may rightly replace the earlier.
      executionMode: 'QUEUED',
      triggers: [
        { type: 'schedule', cron: '0 3 * * *' },
        { type: 'schedule', cron: '0 4 * * *' },
      ],
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    // Fired in the same second, as two crons due in the same minute are.
    await Promise.all([0, 1].map((i) => client.schedule.getHandle(scheduleId(name, i)).trigger()));
    const listed = async () =>
      (await api.get<{ executions: { executionId: string }[] }>(`/pipelines/${name}/executions`)).body.executions.map(
        (e) => e.executionId,
      );
    await expect.poll(async () => (await listed()).length, { timeout: 60_000 }).toBe(2);
    for (const id of await listed()) {
      const view = await api.waitFor(id);
      expect(view.status).toBe('Succeeded');
      expect(view.trigger).toMatchObject({ type: 'schedule' });
    }
  });
});
