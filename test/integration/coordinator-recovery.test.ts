/**
 * A pipeline's coordinator terminated or reset from Temporal (issue 15, item 6), and idempotency keys under
 * concurrency and after their execution ended (item 12). Acted on as an operator of Temporal would, through
 * its client, and observed over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { Api, uniqueName } from '../support/api.js';
import { Gates } from '../support/gates.js';

const api = new Api();
const poll = <T>(fn: () => Promise<T> | T, timeout = 30_000) =>
  expect.poll(() => Promise.resolve(fn()), { timeout, interval: 100 });

let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(() => client?.connection.close());

const queued = (name: string, gates: Gates) => ({
  name,
  executionMode: 'QUEUED',
  stages: [
    { name: 'Deploy', actions: [{ name: 'deploy', type: 'command', run: gates.script('deploy', { gated: true }) }] },
  ],
});
const state = async (name: string) => (await api.get<PipelineState>(`/pipelines/${name}/state`)).body.stages[0]!;

describe('a coordinator terminated from Temporal', () => {
  it('comes back on the next trigger with its version, counter, lock holder and queue', async () => {
    const name = uniqueName('terminated');
    const gates = new Gates();
    await api.pipeline(queued(name, gates));
    await api.pipeline({ ...queued(name, gates), description: 'v2' });
    const first = await api.trigger(name);
    const second = await api.trigger(name);
    await poll(() => gates.started(first, 'deploy')).toBe(true);
    await poll(async () => (await state(name)).inbound.map((w) => w.executionId)).toEqual([second]);

    await client.workflow.getHandle(`pipeline:${name}`).terminate('operator mistake');
    // While it is gone, the holder finishes its stage: its "leave" cannot be delivered yet, and is kept trying.
    gates.open(first, 'deploy');
    await poll(async () => (await api.execution(first)).stages[0]!.status).toBe('Succeeded');

    const third = await api.trigger(name);
    expect(third).toBe(`${name}-3`);
    const pipeline = await api.get<{ version: number }>(`/pipelines/${name}`);
    expect(pipeline.body.version).toBe(2);
    gates.open(second, 'deploy');
    gates.open(third, 'deploy');
    expect((await api.waitFor(first)).status).toBe('Succeeded');
    expect((await api.waitFor(second, ['Succeeded'], 60_000)).status).toBe('Succeeded');
    expect((await api.waitFor(third, ['Succeeded'], 60_000)).status).toBe('Succeeded');
    // One at a time, in order, as if nothing had happened.
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([first, second, third]);
    const ordered = gates.intervals('deploy');
    expect(ordered.every((x, i) => i === 0 || x.start >= ordered[i - 1]!.end)).toBe(true);
  });
});

describe('a coordinator reset from Temporal', () => {
  it('never gives a new execution the id of an old one', async () => {
    const name = uniqueName('reset');
    const gates = new Gates();
    await api.pipeline(queued(name, gates));
    const ids = [await api.trigger(name), await api.trigger(name)];
    for (const id of ids) gates.open(id, 'deploy');
    for (const id of ids) await api.waitFor(id);

    // Reset to the workflow task after the coordinator's start-up, dropping every allocation since (no
    // signal or Update reapplied): its counter goes back to nothing, while executions 1 and 2 exist.
    const workflowId = `pipeline:${name}`;
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
    const EventType = temporal.api.enums.v1.EventType;
    const started = events!.findIndex((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    const afterStartUp = events!
      .slice(started)
      .find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)!;
    await client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId, runId },
      workflowTaskFinishEventId: afterStartUp.eventId,
      requestId: randomUUID(),
      reason: 'test: reset before the executions',
      resetReapplyExcludeTypes: [
        temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
        temporal.api.enums.v1.ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE,
      ],
    });
    expect(
      (await client.workflow.getHandle(workflowId).query<{ executionsStarted: number }>('pipeline')).executionsStarted,
    ).toBe(0);

    const r = await api.as('bob').post<{ executionId: string }>(`/pipelines/${name}/executions`, {});
    expect(r.status).toBe(201);
    expect(r.body.executionId).toBe(`${name}-3`);
    gates.open(r.body.executionId, 'deploy');
    expect((await api.waitFor(r.body.executionId)).status).toBe('Succeeded');
    // The old ones are untouched.
    for (const id of ids) expect((await api.execution(id)).status).toBe('Succeeded');
  });
});

describe('idempotency keys', () => {
  it('give one execution per key under 300 concurrent triggers, and never a 5xx', async () => {
    const name = uniqueName('idem-load');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        api
          .as('bob')
          .post<{ executionId: string }>(`/pipelines/${name}/executions`, { idempotencyKey: `key-${i % 30}` })
          .then((r) => ({ ...r, key: `key-${i % 30}` })),
      ),
    );
    const statuses = replies.map((r) => r.status);
    console.log(
      `300 triggers, 30 keys: ${statuses.filter((s) => s === 201).length} x 201, ` +
        `${statuses.filter((s) => s === 200).length} x 200, ${statuses.filter((s) => s >= 500).length} x 5xx`,
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(30);
    expect(statuses.filter((s) => s === 200)).toHaveLength(270);
    const byKey = new Map<string, Set<string>>();
    for (const r of replies) byKey.set(r.key, (byKey.get(r.key) ?? new Set()).add(r.body.executionId));
    expect([...byKey.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set([...byKey.values()].map((ids) => [...ids][0])).size).toBe(30);
  });

  it('answer 200 with the same execution, and its status, after it ended', async () => {
    const name = uniqueName('idem-ended');
    await api.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const first = await api.as('bob').post<{ executionId: string }>(`/pipelines/${name}/executions`, {
      idempotencyKey: 'nightly-42',
    });
    expect(first.status).toBe(201);
    await api.waitFor(first.body.executionId);
    await poll(async () => (await client.workflow.getHandle(first.body.executionId).describe()).status.name).toBe(
      'COMPLETED',
    );
    const again = await api.as('bob').post(`/pipelines/${name}/executions`, { idempotencyKey: 'nightly-42' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ executionId: first.body.executionId, status: 'Succeeded' });
  });
});
