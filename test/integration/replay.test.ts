/**
 * Determinism: histories of real runs replayed against the workflow code as built now. Two sets:
 * - the histories in `test/histories/`, recorded from earlier code: a change that would break running
 *   executions fails here (add the current release's with `PASO_RECORD_HISTORIES=<release> npx vitest run
 *   test/integration/replay.test.ts`, which writes `<shape>-<release>.json` beside the earlier ones);
 * - histories made by this run, of every workflow shape Paso has.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { execa } from 'execa';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { namedLocksWorkflowId } from '../../src/shared/named-locks.js';
import { coordinatorWorkflowId, executionWorkflowId, PasoPipeline, PasoStatus } from '../../src/shared/temporal.js';
import { resolveTemporalCli } from '../../src/temporal/cli.js';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker.js';
import { Api, uniqueName } from '../support/api.js';
import { MENTION, Slack } from '../support/slack.js';

// Replay workers log every state change at INFO; only problems matter here.
Runtime.install({ logger: new DefaultLogger('WARN') });

const HISTORIES = path.resolve(import.meta.dirname, '..', 'histories');
const api = new Api();
const slack = new Slack();

async function replay(histories: { workflowId: string; history: unknown }[]) {
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: WORKFLOW_BUNDLE }, replayName: 'paso-replay' },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
  }
  return failures;
}

describe('replay', () => {
  let connection: Connection;
  let client: Client;
  beforeAll(async () => {
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new Client({ connection });
  });
  afterAll(() => connection?.close());

  it('replays the recorded histories of earlier code', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: JSON.parse(readFileSync(path.join(HISTORIES, f), 'utf8')) as unknown,
    }));
    expect(await replay(histories)).toEqual([]);
  });

  it('replays an execution that a worker of 0.5 ran with an input from a newer gateway (a rolling upgrade)', async () => {
    // The gateway says the coordinator takes `leaving`; the 0.5 worker ignored that and asked, then left, in
    // two signals. Replaying, the current code must send the same two.
    const history = JSON.parse(readFileSync(path.join(HISTORIES, 'execution-failed-0.5.json'), 'utf8')) as {
      events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[];
    };
    const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString()) as Record<string, unknown>;
    payload.data = Buffer.from(JSON.stringify({ ...input, leavingInRequest: true })).toString('base64');
    expect(await replay([{ workflowId: 'execution-failed-0.5-upgraded-input', history }])).toEqual([]);
  });

  it('an execution of this release records one patch marker, and its search attributes only as they change', async () => {
    const name = uniqueName('history-shape');
    const stage = (stageName: string) => ({ name: stageName, actions: [{ name: 'x', type: 'command', run: 'true' }] });
    await api.pipeline({ name, executionMode: 'QUEUED', stages: [stage('Build'), stage('Deploy')] });
    const id = await api.trigger(name);
    expect((await api.waitFor(id)).status).toBe('Succeeded');
    const { events } = await client.workflow.getHandle(executionWorkflowId(id)).fetchHistory();
    // Every change since 0.2 applies to it, under the one marker of 0.7 (before: one marker per change it met).
    const patches = events!.flatMap((e) => {
      const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0];
      return data ? [defaultPayloadConverter.fromPayload<{ id: string }>(data).id] : [];
    });
    expect(patches).toEqual(['paso-execution-0.7']);
    // The start set the pipeline and InProgress; then each stage as it starts, then the end, at the last stage
    // (before: InProgress with no stage first, as the start had set).
    const written = events!.flatMap((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
      if (!fields?.PasoStatus) return [];
      return [[fields.PasoStatus, fields.PasoStage].map((p) => (p ? defaultPayloadConverter.fromPayload(p) : p))];
    });
    expect(written).toEqual([
      ['InProgress', 'Build'],
      ['InProgress', 'Deploy'],
      ['Succeeded', 'Deploy'],
    ]);
    const described = await client.workflow.getHandle(executionWorkflowId(id)).describe();
    expect(described.typedSearchAttributes.get(PasoStatus)).toBe('Succeeded');
    expect(described.typedSearchAttributes.get(PasoPipeline)).toBe(name);
  });

  it('replays this run of every workflow shape', async () => {
    const name = uniqueName('replay');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-replay-'));
    await api.pipeline({
      name,
      variables: { WHO: 'replay' },
      stages: [
        {
          name: 'Build',
          actions: [
            { name: 'a', type: 'command', run: 'echo "$WHO"', runOrder: 1 },
            { name: 'b', type: 'command', run: 'exit 1', onError: 'ignore', runOrder: 1 },
            { name: 'pause', type: 'wait', seconds: 1, runOrder: 2 },
          ],
        },
        { name: 'Deploy', actions: [{ name: 'gate', type: 'command', run: `test -e ${dir}/go` }] },
      ],
    });
    const failed = await api.trigger(name, { idempotencyKey: 'one' });
    expect((await api.waitFor(failed)).status).toBe('Failed');
    // Another one fails the same way, is fixed and retried: stop and retry belong in the recorded shapes.
    const retried = await api.trigger(name, { idempotencyKey: 'two' });
    await api.waitFor(retried, ['Failed']);
    writeFileSync(`${dir}/go`, '');
    expect(
      (await api.as('bob').post(`/executions/${retried}/retry`, { stage: 'Deploy', mode: 'FAILED_ACTIONS' })).status,
    ).toBe(202);
    expect((await api.waitFor(retried, ['Succeeded'])).status).toBe('Succeeded');
    await api.pipeline({ name, stages: [{ name: 'Only', actions: [{ name: 'x', type: 'command', run: 'true' }] }] });
    const succeeded = await api.trigger(name);
    expect((await api.waitFor(succeeded)).status).toBe('Succeeded');
    // Triggers at once: those that come while four are in flight go to the coordinator in one Update; each
    // newer one waiting supersedes the one before (SUPERSEDED, the default mode).
    const burst = await Promise.all(Array.from({ length: 12 }, () => api.trigger(name)));
    for (const id of burst) await api.waitFor(id, ['Succeeded', 'Superseded']);

    // Manual steps: an approval, a pause and a trapped failure, each decided by a person.
    const manualName = uniqueName('replay-manual');
    await api.pipeline({
      name: manualName,
      stages: [
        {
          name: 'Release',
          actions: [
            { name: 'go', type: 'approval', approvers: { users: ['dave'], groups: [] }, runOrder: 1 },
            { name: 'hold', type: 'pause', runOrder: 2 },
            { name: 'probe', type: 'command', run: 'false', onError: 'trap', runOrder: 3 },
          ],
        },
      ],
    });
    const manual = await api.trigger(manualName);
    const decide = async (route: string, body: object, user: 'dave' | 'bob') => {
      await expect
        .poll(async () => (await api.as(user).post(`/executions/${manual}/${route}`, body)).status, { timeout: 20_000 })
        .toBe(200);
    };
    // ChatOps: a channel bound from Slack, a Talkback command, posts to the channel.
    const channel = await slack.bind('U0BOB', manual);
    await slack.say('U0BOB', channel, `${MENTION} run checkup`);
    await slack.waitForMessage(channel, 'Talkback `checkup` (tb-1, run by bob) Succeeded');
    await decide('approvals', { stage: 'Release', action: 'go', decision: 'approve' }, 'dave');
    await decide('resume', { stage: 'Release', action: 'hold' }, 'bob');
    await decide('trap', { stage: 'Release', action: 'probe', decision: 'skip' }, 'bob');
    expect((await api.waitFor(manual)).status).toBe('Succeeded');

    // Named locks: a stage that takes one, and the workflow that holds them all.
    const lockedName = uniqueName('replay-locks');
    await api.pipeline({
      name: lockedName,
      stages: [{ name: 'Deploy', locks: ['locks-replay'], actions: [{ name: 'x', type: 'command', run: 'true' }] }],
    });
    const locked = await api.trigger(lockedName);
    expect((await api.waitFor(locked)).status).toBe('Succeeded');

    const ids = [
      executionWorkflowId(failed),
      executionWorkflowId(succeeded),
      coordinatorWorkflowId(name),
      executionWorkflowId(retried),
      executionWorkflowId(manual),
      executionWorkflowId(locked),
      namedLocksWorkflowId('paso-test'), // the test Paso's task queue
    ];
    const histories = await Promise.all(
      ids.map(async (workflowId) => ({
        workflowId,
        history: await client.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    expect(await replay(histories)).toEqual([]);
    const coordinatorHistory = JSON.stringify(histories.find((h) => h.workflowId === coordinatorWorkflowId(name)));
    expect(coordinatorHistory).toContain('allocateExecutions');

    const release = process.env.PASO_RECORD_HISTORIES;
    if (release) {
      // The CLI writes the JSON form that Temporal's tools and `Worker.runReplayHistories` read.
      const cli = await resolveTemporalCli();
      const labels = [
        'execution-failed',
        'execution-succeeded',
        'coordinator',
        'execution-retried',
        'execution-manual-chat',
        'execution-locks',
        'named-locks',
      ];
      for (const [i, workflowId] of ids.entries()) {
        const address = inject('temporalAddress');
        const { stdout } = await execa(cli, ['workflow', 'show', '-w', workflowId, '--address', address, '-o', 'json']);
        // Named by release, beside the earlier releases' files, which stay: running executions may be theirs.
        writeFileSync(path.join(HISTORIES, `${labels[i]}-${release}.json`), stdout);
      }
    }
  });
});
