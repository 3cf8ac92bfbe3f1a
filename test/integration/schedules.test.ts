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
      (await api.get<{ executionId: string; status: string }[]>(`/pipelines/${name}/executions`)).body;
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
