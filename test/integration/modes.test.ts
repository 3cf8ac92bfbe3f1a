/**
 * CodePipeline's execution modes through the real gateway and coordinator. Timestamps come from the
 * commands themselves, so "never overlaps" is checked against what really ran.
 */
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExecutionView } from '../../src/shared/execution-view.js';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { coordinatorWorkflowId } from '../../src/shared/temporal.js';
import { Api, uniqueName } from '../support/api.js';
import { disjoint, Gates, twoStages } from '../support/gates.js';

const api = new Api();
const state = async (name: string) => (await api.get<PipelineState>(`/pipelines/${name}/state`)).body;
const stageState = async (name: string, stage: string) => (await state(name)).stages.find((s) => s.name === stage)!;
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 200 });

/** A pipeline in which execution 1 holds Deploy (its command kept open) and execution 2 waits in front of it. */
async function holderAndWaiter(prefix: string, mode: 'SUPERSEDED' | 'QUEUED') {
  const name = uniqueName(prefix);
  const gates = new Gates();
  await api.pipeline(twoStages(name, gates, mode));
  const e1 = await api.trigger(name);
  await poll(() => Promise.resolve(gates.started(e1, 'deploy'))).toBe(true);
  const e2 = await api.trigger(name);
  await poll(async () => (await api.execution(e2)).waiting).toEqual({ stage: 'Deploy', for: 'STAGE_LOCK' });
  return { name, gates, e1, e2 };
}

let client: Client;
beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(() => client?.connection.close());

describe('SUPERSEDED mode', () => {
  it("follows the seed's example: 2 waits, 3 supersedes it, 3 enters Deploy when 1 leaves", async () => {
    const { name, gates, e1, e2 } = await holderAndWaiter('seed', 'SUPERSEDED');
    expect(await stageState(name, 'Deploy')).toMatchObject({
      lockedBy: e1,
      inbound: [{ executionId: e2, status: 'InProgress', waitingFor: 'STAGE_LOCK' }],
    });

    const e3 = await api.trigger(name);
    const superseded = await api.waitFor(e2, ['Superseded']);
    expect(superseded.stages.map((s) => s.status)).toEqual(['Succeeded', null]);
    await poll(async () => (await stageState(name, 'Deploy')).inbound.map((w) => w.executionId)).toEqual([e3]);

    gates.open(e1, 'deploy');
    gates.open(e3, 'deploy');
    expect((await api.waitFor(e1)).status).toBe('Succeeded');
    expect((await api.waitFor(e3)).status).toBe('Succeeded');
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual([e1, e3]);
    expect(disjoint(gates.intervals('deploy'))).toBe(true);
    expect(gates.started(e2, 'deploy')).toBe(false);
    expect(await stageState(name, 'Deploy')).toMatchObject({
      lockedBy: null,
      inbound: [],
      latestExecution: { executionId: e3, status: 'Succeeded' },
    });
    const listed = await api.get<{ executions: { executionId: string }[] }>(
      `/pipelines/${name}/executions?status=Superseded`,
    );
    expect(listed.body.executions.map((e) => e.executionId)).toEqual([e2]);
  });

  it('releases the lock when the holder fails, and the waiting one enters', async () => {
    const name = uniqueName('fail-release');
    const gates = new Gates();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'ship',
              type: 'command',
              // The first execution fails once its gate opens; the others succeed.
              run: `${gates.script('deploy', { gated: true })}; [ "$PASO_EXECUTION_ID" != "${name}-1" ]`,
            },
          ],
        },
      ],
    });
    const e1 = await api.trigger(name);
    await poll(() => Promise.resolve(gates.started(e1, 'deploy'))).toBe(true);
    const e2 = await api.trigger(name);
    await poll(async () => (await api.execution(e2)).waiting?.for).toBe('STAGE_LOCK');
    gates.open(e1, 'deploy');
    expect((await api.waitFor(e1)).status).toBe('Failed');
    await poll(() => Promise.resolve(gates.started(e2, 'deploy'))).toBe(true);
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    expect(disjoint(gates.intervals('deploy'))).toBe(true);
  });
});

describe('QUEUED mode', () => {
  it('passes 20 executions triggered at once one by one, in arrival order, through every stage', async () => {
    const name = uniqueName('queue');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: gates.script('build', { sleep: 0.1 }) }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { sleep: 0.1 }) }] },
      ],
    });
    const ids = await Promise.all(Array.from({ length: 20 }, () => api.trigger(name)));
    const views = await Promise.all(ids.map((id) => api.waitFor(id, ['Succeeded', 'Failed'], 120_000)));
    expect(views.map((v) => v.status)).toEqual(ids.map(() => 'Succeeded'));

    const build = gates.intervals('build');
    const deploy = gates.intervals('deploy');
    expect(build).toHaveLength(20);
    expect(disjoint(build)).toBe(true);
    expect(disjoint(deploy)).toBe(true);
    // They reach Deploy in the order they left Build, and the queue lets them in in that order.
    expect(deploy.map((i) => i.executionId)).toEqual(build.map((i) => i.executionId));
    expect(views.every((v) => v.status !== 'Superseded')).toBe(true);

    // Each execution asked for Build; then it asked for Deploy and left Build in one signal (two in a row could
    // cross the coordinator's answer, and crossing signals wait on each other in Temporal), then left Deploy:
    // three signals in all. The last two were sent by each stage's command as it exited 0, by its worker (one
    // workflow task sooner than the workflow could): the workflow itself sent only the first.
    const { events } = await client.workflow.getHandle(ids[0]!).fetchHistory();
    const sent = events!.flatMap((e) => {
      const a = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
      return a ? [a.signalName] : [];
    });
    expect(sent).toEqual(['requestStage']);
    const received: { signal: string; input: unknown; from: string; at: number }[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${coordinatorWorkflowId(name)}'` })) {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      for (const e of history.events!) {
        const a = e.workflowExecutionSignaledEventAttributes;
        const input =
          a && (JSON.parse(Buffer.from(a.input!.payloads![0]!.data!).toString()) as { executionId?: string });
        if (input?.executionId !== ids[0]) continue;
        const from = a!.externalWorkflowExecution?.workflowId ? 'workflow' : 'command';
        const at = Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
        received.push({ signal: a!.signalName!, input, from, at });
      }
    }
    received.sort((a, b) => a.at - b.at);
    expect(received.map(({ signal, input, from }) => ({ signal, input, from }))).toEqual([
      { signal: 'requestStage', input: { executionId: ids[0], stage: 'Build' }, from: 'workflow' },
      {
        signal: 'requestStage',
        input: { executionId: ids[0], stage: 'Deploy', leaving: { stage: 'Build', outcome: 'Succeeded' } },
        from: 'command',
      },
      { signal: 'leaveStage', input: { executionId: ids[0], stage: 'Deploy', outcome: 'Succeeded' }, from: 'command' },
    ]);

    // The coordinator continued-as-new on the way (the test server suggests it every 300 events).
    const runs = await client.workflow.count(`WorkflowId = '${coordinatorWorkflowId(name)}'`);
    expect(runs.count).toBeGreaterThan(1);
  });
});

describe('PARALLEL mode', () => {
  it('runs executions at the same time in the same stage', async () => {
    const name = uniqueName('parallel');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { gated: true }) }] },
      ],
    });
    const ids = await Promise.all([1, 2, 3].map(() => api.trigger(name)));
    // All three are inside the stage at once: none can finish before the test opens the gates.
    await poll(() => Promise.resolve(ids.every((id) => gates.started(id, 'deploy')))).toBe(true);
    for (const id of ids) gates.open(id, 'deploy');
    for (const id of ids) expect((await api.waitFor(id)).status).toBe('Succeeded');
    const [a, b, c] = gates.intervals('deploy');
    expect(Math.max(a!.start, b!.start, c!.start)).toBeLessThan(Math.min(a!.end, b!.end, c!.end));
  });
});

describe('a burst of triggers', () => {
  it('numbers 40 triggers at once in a few Updates, none lost or twice, a repeated key finding its execution', async () => {
    const name = uniqueName('burst');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'true' }] }],
    });
    const plain = Array.from({ length: 40 }, () =>
      api.post<{ executionId: string }>(`/pipelines/${name}/executions`, {}),
    );
    // Through the same gateway, at the same moment: one key twice with one body, and once with another.
    const body = { idempotencyKey: 'release-9', variables: {} };
    const keyed = [body, body, { ...body, sourceRevisions: { app: 'abc123' } }].map((b) =>
      api.post<{ executionId: string; detail?: string }>(`/pipelines/${name}/executions`, b),
    );
    const answers = await Promise.all(plain);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    // Whichever body came first made the execution; the same body again finds it, the other is refused.
    const [same, sameAgain, other] = await Promise.all(keyed);
    const made = [same!, sameAgain!, other!].find((a) => a.status === 201)!;
    const sameFirst = Object.keys((await api.execution(made.body.executionId)).sourceRevisions).length === 0;
    expect([same!.status, sameAgain!.status, other!.status].sort()).toEqual(
      sameFirst ? [200, 201, 409] : [201, 409, 409],
    );
    if (sameFirst) expect(same!.body.executionId).toBe(sameAgain!.body.executionId);

    const ids = [...answers.map((a) => a.body.executionId), made.body.executionId];
    expect(new Set(ids).size).toBe(41);
    expect(ids.map((id) => Number(id.slice(name.length + 1))).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 41 }, (_, i) => i + 1),
    );
    const views = await Promise.all(ids.map((id) => api.waitFor(id, ['Succeeded', 'Failed'], 60_000)));
    expect(views.map((v) => v.status)).toEqual(ids.map(() => 'Succeeded'));

    // The triggers that came while the coordinator was busy went to it together (allocateExecutions).
    const { events } = await client.workflow.getHandle(coordinatorWorkflowId(name)).fetchHistory();
    const updates = events!.flatMap((e) => {
      const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
      if (!accepted?.name?.startsWith('allocateExecution')) return [];
      const payload = JSON.parse(Buffer.from(accepted.args!.payloads![0]!.data!).toString()) as {
        requests?: unknown[];
      };
      return [{ name: accepted.name, requests: payload.requests?.length ?? 1 }];
    });
    // 41 executions and the repeated key; a refused request leaves no Update in history.
    expect(updates.reduce((n, u) => n + u.requests, 0)).toBe(sameFirst ? 42 : 41);
    expect(updates.some((u) => u.name === 'allocateExecutions' && u.requests > 1)).toBe(true);
    expect(updates.length).toBeLessThan(42);
    console.log(
      `41 triggers at once: ${updates.length} allocation Updates (${updates.map((u) => u.requests).join(' ')})`,
    );
  });
});

describe('transitions', () => {
  it('hold executions while disabled; a newer one supersedes the inbound one; enabling lets the newest in', async () => {
    const name = uniqueName('transition');
    const gates = new Gates();
    await api.pipeline(twoStages(name, gates, 'SUPERSEDED'));
    const off = await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false, reason: 'freeze' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ name: 'Deploy', transition: { enabled: false, reason: 'freeze', by: 'bob' } });

    const e1 = await api.trigger(name);
    await poll(async () => (await api.execution(e1)).waiting).toEqual({ stage: 'Deploy', for: 'TRANSITION' });
    const e2 = await api.trigger(name);
    expect((await api.waitFor(e1, ['Superseded'])).status).toBe('Superseded');
    await poll(async () => (await stageState(name, 'Deploy')).inbound).toEqual([
      { executionId: e2, status: 'InProgress', waitingFor: 'TRANSITION' },
    ]);
    expect(gates.started(e2, 'deploy')).toBe(false);

    const on = await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true });
    expect(on.body).toMatchObject({ transition: { enabled: true, by: 'bob' } });
    await poll(() => Promise.resolve(gates.started(e2, 'deploy'))).toBe(true);
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    expect(gates.started(e1, 'deploy')).toBe(false);
  });

  it('in QUEUED mode let the waiting executions in one by one, in order, when enabled', async () => {
    const name = uniqueName('transition-q');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { sleep: 0.2 }) }] },
      ],
    });
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false, reason: 'maintenance window' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await api.trigger(name));
      await poll(async () => (await stageState(name, 'Deploy')).inbound.length).toBe(i + 1);
    }
    expect((await stageState(name, 'Deploy')).inbound.map((w) => [w.executionId, w.waitingFor])).toEqual(
      ids.map((id) => [id, 'TRANSITION']),
    );
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true });
    for (const id of ids) expect((await api.waitFor(id)).status).toBe('Succeeded');
    expect(gates.intervals('deploy').map((i) => i.executionId)).toEqual(ids);
    expect(disjoint(gates.intervals('deploy'))).toBe(true);
  });

  it('are validated: reason required, known stage, operators only', async () => {
    const name = uniqueName('transition-bad');
    const gates = new Gates();
    await api.pipeline(twoStages(name, gates, 'SUPERSEDED'));
    const noReason = await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false });
    expect(noReason.status).toBe(400);
    expect((noReason.body as { errors: { path: string }[] }).errors[0]!.path).toBe('reason');
    expect((await api.as('bob').put(`/pipelines/${name}/transitions/Nope`, { enabled: true })).status).toBe(404);
    expect((await api.as('bob').put('/pipelines/no-such-pipeline/transitions/Deploy', { enabled: true })).status).toBe(
      404,
    );
    expect((await api.as('carol').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true })).status).toBe(403);
  });

  it('on a PARALLEL pipeline hold running executions and new ones alike; enabling lets them all in', async () => {
    const name = uniqueName('transition-p');
    const gates = new Gates();
    // Build is held open by the test; Deploy records when it runs.
    await api.pipeline(twoStages(name, gates, 'PARALLEL', 'build'));
    // Before any transition is disabled, PARALLEL executions pass without asking the coordinator.
    const e0 = await api.trigger(name);
    await poll(() => Promise.resolve(gates.started(e0, 'build'))).toBe(true);
    gates.open(e0, 'build');
    expect((await api.waitFor(e0)).status).toBe('Succeeded');
    expect((await stageState(name, 'Deploy')).latestExecution).toBeNull();

    const e1 = await api.trigger(name);
    await poll(() => Promise.resolve(gates.started(e1, 'build'))).toBe(true);
    const asked = Date.now();
    const off = await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false, reason: 'freeze' });
    expect(off.status).toBe(200);
    // It answers once the running executions have been told (e0, which has ended, holds nothing up).
    expect(Date.now() - asked).toBeLessThan(5_000);
    const e2 = await api.trigger(name);
    await poll(() => Promise.resolve(gates.started(e2, 'build'))).toBe(true);
    gates.open(e1, 'build');
    gates.open(e2, 'build');
    for (const id of [e1, e2]) {
      await poll(async () => (await api.execution(id)).waiting).toEqual({ stage: 'Deploy', for: 'TRANSITION' });
    }
    expect((await stageState(name, 'Deploy')).inbound.map((w) => [w.executionId, w.waitingFor]).sort()).toEqual([
      [e1, 'TRANSITION'],
      [e2, 'TRANSITION'],
    ]);
    await new Promise((r) => setTimeout(r, 500));
    expect(gates.started(e1, 'deploy') || gates.started(e2, 'deploy')).toBe(false);

    const enabledAt = Date.now();
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true });
    for (const id of [e1, e2]) expect((await api.waitFor(id)).status).toBe('Succeeded');
    // Both ran Deploy, and only once it was enabled (the commands' own clocks).
    const deploys = gates.intervals('deploy').filter((i) => i.executionId !== e0);
    expect(deploys.map((i) => i.executionId).sort()).toEqual([e1, e2].sort());
    for (const d of deploys) expect(d.start).toBeGreaterThanOrEqual(enabledAt);
    expect(await stageState(name, 'Deploy')).toMatchObject({ lockedBy: null, holders: [], inbound: [] });
  });

  it('on a PARALLEL pipeline, a held execution that is stopped leaves the list and never continues', async () => {
    const name = uniqueName('transition-ps');
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'true' }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }] },
      ],
    });
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: false, reason: 'freeze' });
    const e1 = await api.trigger(name);
    await poll(async () => (await api.execution(e1)).waiting).toEqual({ stage: 'Deploy', for: 'TRANSITION' });
    expect((await api.as('bob').post(`/executions/${e1}/stop`, { abandon: false })).status).toBe(202);
    expect((await api.waitFor(e1, ['Stopped'])).stages[1]!.status).toBeNull();
    await poll(async () => (await stageState(name, 'Deploy')).inbound).toEqual([]);
    await api.as('bob').put(`/pipelines/${name}/transitions/Deploy`, { enabled: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(gates.started(e1, 'deploy')).toBe(false);
  });
});

describe('locks are never leaked', () => {
  it('a terminated holder loses its lock within 15 seconds and the waiting one enters', async () => {
    const { name, gates, e1, e2 } = await holderAndWaiter('terminated', 'QUEUED');
    expect((await stageState(name, 'Deploy')).inbound.map((w) => w.executionId)).toEqual([e2]);

    const terminatedAt = Date.now();
    await client.workflow.getHandle(e1).terminate('test: ended from outside Paso');
    await expect
      .poll(async () => (await stageState(name, 'Deploy')).lockedBy, { timeout: 15_000, interval: 200 })
      .toBe(e2);
    expect(Date.now() - terminatedAt).toBeLessThan(15_000);
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
    const listed = await api.get<{ executions: { executionId: string; status: string }[] }>(
      `/pipelines/${name}/executions`,
    );
    expect(listed.body.executions.find((e) => e.executionId === e1)?.status).toBe('Cancelled');
  });
});

describe('executions ended from outside Paso', () => {
  it('a cancelled holder gives its lock back at once and shows Cancelled, its command abandoned', async () => {
    const { gates, e1, e2 } = await holderAndWaiter('cancelled', 'SUPERSEDED');
    await client.workflow.getHandle(e1).cancel();
    await poll(() => Promise.resolve(gates.started(e2, 'deploy'))).toBe(true);
    const cancelled = await api.waitFor(e1, ['Cancelled']);
    expect(cancelled.stages[1]).toMatchObject({ status: 'Stopped', actions: [{ status: 'Abandoned' }] });
    expect(gates.intervals('deploy').find((i) => i.executionId === e1)!.end).toBe(Infinity); // killed, never ended
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
  });

  it('a reset holder keeps its lock and, run again, releases it to the waiting one', async () => {
    const { name, gates, e1, e2 } = await holderAndWaiter('reset', 'QUEUED');
    expect((await stageState(name, 'Deploy')).inbound.map((w) => w.executionId)).toEqual([e2]);

    // Reset e1 to its first workflow task, as `temporal workflow reset --type FirstWorkflowTask` does.
    const handle = client.workflow.getHandle(e1);
    const history = await handle.fetchHistory();
    const firstTask = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
    const { runId } = await handle.describe();
    await client.workflowService.resetWorkflowExecution({
      namespace: 'default',
      workflowExecution: { workflowId: e1, runId },
      workflowTaskFinishEventId: firstTask.eventId,
      reason: 'test: reset from outside Paso',
      requestId: `${e1}-reset`,
    });
    // The new run passes Build again and finds Deploy's lock still its own.
    await poll(() =>
      Promise.resolve(
        gates.events().filter((e) => e.executionId === e1 && e.label === 'deploy' && e.what === 'start').length,
      ),
    ).toBe(2);
    expect((await stageState(name, 'Deploy')).lockedBy).toBe(e1);
    gates.open(e1, 'deploy');
    expect((await api.waitFor(e1)).status).toBe('Succeeded');
    await poll(() => Promise.resolve(gates.started(e2, 'deploy'))).toBe(true);
    gates.open(e2, 'deploy');
    expect((await api.waitFor(e2)).status).toBe('Succeeded');
  });
});

describe('changing the pipeline while executions run', () => {
  it('QUEUED → SUPERSEDED keeps only the newest waiting execution; running ones finish on their version', async () => {
    const name = uniqueName('mode-change');
    const gates = new Gates();
    await api.pipeline(twoStages(name, gates, 'QUEUED'));
    const e1 = await api.trigger(name);
    await poll(() => Promise.resolve(gates.started(e1, 'deploy'))).toBe(true);
    const waiting: string[] = [];
    for (let i = 0; i < 3; i++) {
      waiting.push(await api.trigger(name));
      await poll(async () => (await stageState(name, 'Deploy')).inbound.length).toBe(i + 1);
    }
    expect(await api.pipeline(twoStages(name, gates, 'SUPERSEDED'))).toBe(2);
    const [w1, w2, w3] = waiting;
    expect((await api.waitFor(w1!, ['Superseded'])).status).toBe('Superseded');
    expect((await api.waitFor(w2!, ['Superseded'])).status).toBe('Superseded');
    gates.open(e1, 'deploy');
    const first: ExecutionView = await api.waitFor(e1);
    expect(first).toMatchObject({ status: 'Succeeded', pipelineVersion: 1 });
    await poll(() => Promise.resolve(gates.started(w3!, 'deploy'))).toBe(true);
    gates.open(w3!, 'deploy');
    expect((await api.waitFor(w3!)).status).toBe('Succeeded');
  });
});

describe('stage concurrency (concurrency: N slots)', () => {
  /** One stage, Deploy, with `slots` slots, its command held open by the test. */
  async function pooled(prefix: string, mode: 'SUPERSEDED' | 'QUEUED', slots: number) {
    const name = uniqueName(prefix);
    const gates = new Gates();
    await api.pipeline({
      name,
      executionMode: mode,
      stages: [
        {
          name: 'Deploy',
          concurrency: slots,
          actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { gated: true }) }],
        },
      ],
    });
    return { name, gates };
  }
  /** The most intervals that ran at one instant. */
  const mostAtOnce = (intervals: { start: number; end: number }[]) =>
    Math.max(...intervals.map((x) => intervals.filter((y) => y.start <= x.start && x.start < y.end).length));

  it('QUEUED, 2 slots, 4 executions: 2 run at once, never 3, and the others enter in FIFO order', async () => {
    const { name, gates } = await pooled('pool-queued', 'QUEUED', 2);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await api.trigger(name));
    const [e1, e2, e3, e4] = ids as [string, string, string, string];
    await poll(() => Promise.resolve([gates.started(e1, 'deploy'), gates.started(e2, 'deploy')])).toEqual([true, true]);
    await poll(async () => (await stageState(name, 'Deploy')).inbound.map((w) => w.executionId)).toEqual([e3, e4]);
    expect(await stageState(name, 'Deploy')).toMatchObject({ concurrency: 2, lockedBy: e1, holders: [e1, e2] });
    expect((await api.execution(e4)).waiting).toEqual({ stage: 'Deploy', for: 'STAGE_LOCK' });

    // The second holder leaves first: the head of the queue takes its slot; the first holder stays lockedBy.
    gates.open(e2, 'deploy');
    await poll(() => Promise.resolve(gates.started(e3, 'deploy'))).toBe(true);
    expect(await stageState(name, 'Deploy')).toMatchObject({
      lockedBy: e1,
      holders: [e1, e3],
      inbound: [{ executionId: e4 }],
    });
    expect(gates.started(e4, 'deploy')).toBe(false);
    gates.open(e1, 'deploy');
    await poll(() => Promise.resolve(gates.started(e4, 'deploy'))).toBe(true);
    gates.open(e3, 'deploy');
    gates.open(e4, 'deploy');
    for (const id of [e1, e2, e3, e4]) expect((await api.waitFor(id)).status).toBe('Succeeded');

    const runs = gates.intervals('deploy');
    expect(mostAtOnce(runs)).toBe(2);
    const at = Object.fromEntries(runs.map((r) => [r.executionId, r]));
    expect(at[e3]!.start).toBeGreaterThanOrEqual(at[e2]!.end);
    expect(at[e4]!.start).toBeGreaterThanOrEqual(at[e1]!.end);
    expect(at[e3]!.start).toBeLessThan(at[e4]!.start);
    expect(await stageState(name, 'Deploy')).toMatchObject({ lockedBy: null, holders: [], inbound: [] });
  });

  it('SUPERSEDED, 2 slots: of a third and a fourth arriving while 2 hold, only the newest waits', async () => {
    const { name, gates } = await pooled('pool-superseded', 'SUPERSEDED', 2);
    const e1 = await api.trigger(name);
    const e2 = await api.trigger(name);
    await poll(() => Promise.resolve([gates.started(e1, 'deploy'), gates.started(e2, 'deploy')])).toEqual([true, true]);
    const e3 = await api.trigger(name);
    await poll(async () => (await api.execution(e3)).waiting).toEqual({ stage: 'Deploy', for: 'STAGE_LOCK' });
    const e4 = await api.trigger(name);
    expect((await api.waitFor(e3, ['Superseded'])).status).toBe('Superseded');
    await poll(async () => (await stageState(name, 'Deploy')).inbound.map((w) => w.executionId)).toEqual([e4]);
    expect(await stageState(name, 'Deploy')).toMatchObject({ holders: [e1, e2] });

    gates.open(e2, 'deploy');
    await poll(() => Promise.resolve(gates.started(e4, 'deploy'))).toBe(true);
    gates.open(e1, 'deploy');
    gates.open(e4, 'deploy');
    for (const id of [e1, e2, e4]) expect((await api.waitFor(id)).status).toBe('Succeeded');
    expect(gates.started(e3, 'deploy')).toBe(false);
    expect(mostAtOnce(gates.intervals('deploy'))).toBe(2);
  });

  it('is refused on a PARALLEL pipeline (400 with the path)', async () => {
    const name = uniqueName('pool-parallel');
    const r = await api.as('alice').put<{ errors: { path: string; message: string }[] }>(`/pipelines/${name}`, {
      name,
      executionMode: 'PARALLEL',
      stages: [{ name: 'Deploy', concurrency: 2, actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    expect(r.status).toBe(400);
    expect(r.body.errors.map((e) => e.path)).toEqual(['stages[0].concurrency']);
  });
});
