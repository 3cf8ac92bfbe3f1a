/**
 * Shipping a workflow change while executions wait (issue 15, item 5). Executions park at an approval and at
 * a trap on the current code; then workers built from changed code take over. The change (a timer as each
 * action starts) is made at bundle time: unguarded, a parked execution fails to replay; behind
 * `patched()`, as README's "Upgrading Paso" prescribes, every parked execution finishes, and a new one runs
 * the new code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ExecutionView } from '../../src/shared/execution-view.js';
import { WORKFLOW_BUNDLE } from '../../src/temporal/worker.js';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import { bundleWorkflows, SwappableWorker } from '../support/swappable-worker.js';

const TASK_QUEUE = 'paso-upgrade';
const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-upgrade-'));
const dataDir = path.join(workDir, 'data');
const poll = <T>(fn: () => Promise<T> | T, timeout = 30_000) =>
  expect.poll(() => Promise.resolve(fn()), { timeout, interval: 200 });

/**
 * A webpack loader that adds `insert` where the compiled actions module starts an action; `insert` reaches the
 * workflow API as `wf` (the module imports only what it uses).
 */
const LOADER = path.join(workDir, 'insert-after-decision.cjs');
writeFileSync(
  LOADER,
  `module.exports = function (source) {
  const marker = 'state.actionStarted(stage.name, action.name, now());';
  if (!source.includes(marker)) throw new Error('upgrade test: the action start moved; update the test');
  const changed = source.split(marker).join(marker + ' ' + this.getOptions().insert);
  return "import * as wf from '@temporalio/workflow';\\n" + changed;
};`,
);

/** The workflow bundle as built from the current code with `insert` added where each action starts. */
async function changedBundle(insert: string): Promise<string> {
  const code = await bundleWorkflows(
    path.resolve(import.meta.dirname, '..', '..', 'dist', 'src', 'workflows', 'index.js'),
    (config) => {
      const rule = {
        test: /workflows[\\/]actions\.js$/,
        enforce: 'pre' as const,
        use: [{ loader: LOADER, options: { insert } }],
      };
      config.module?.rules?.push(rule);
      return config;
    },
  );
  const file = path.join(workDir, `bundle-${Date.now()}.js`);
  writeFileSync(file, code);
  return file;
}

let client: Client;
let gateway: PasoProcess;
let api: Api;
const workers = new SwappableWorker({ client: () => client, taskQueue: TASK_QUEUE, dataDir });

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  gateway = await PasoProcess.startGateway({
    temporalAddress: inject('temporalAddress'),
    dataDir,
    configFile: inject('configFile'),
    taskQueue: TASK_QUEUE,
    logFile: path.join(workDir, 'gateway.log'),
  });
  api = new Api(gateway.url);
});
afterAll(async () => {
  await workers.stop();
  await gateway?.stop();
  await client?.connection.close();
});

describe('a worker built from changed workflow code', () => {
  it('fails to replay parked executions unguarded, and finishes them all behind patched()', async () => {
    await workers.start(WORKFLOW_BUNDLE);
    const name = uniqueName('upgrade');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      variables: { KIND: 'approval' },
      stages: [
        {
          name: 'Release',
          actions: [
            {
              name: 'check',
              type: 'command',
              run: 'test "$KIND" != trap || test -e "$PASO_WORKSPACE/fixed"',
              onError: 'trap',
              runOrder: 1,
            },
            {
              name: 'go',
              type: 'approval',
              approvers: { users: ['dave'], groups: [] },
              runOrder: 2,
            },
          ],
        },
      ],
    });
    const approval = await api.trigger(name);
    const trap = await api.trigger(name, { variables: { KIND: 'trap' } });
    const wedged = await api.trigger(name);
    const waitingFor = async (id: string, action: number) =>
      (await api.execution(id)).stages[0]!.actions[action]!.waitingFor;
    await poll(() => waitingFor(approval, 1)).toBe('approval');
    await poll(() => waitingFor(trap, 0)).toBe('trap');
    await poll(() => waitingFor(wedged, 1)).toBe('approval');
    await workers.stop();

    // Unguarded: a new command where the history has none. The signal makes the execution replay: it fails.
    await workers.start(await changedBundle(`await wf.sleep(10);`));
    await client.workflow.getHandle(wedged).signal('approve', {
      stage: 'Release',
      action: 'go',
      decision: 'approve',
      by: 'dave',
    });
    await poll(
      async () => (await client.workflow.getHandle(wedged).describe()).raw.pendingWorkflowTask?.attempt ?? 0,
      30_000,
    ).toBeGreaterThan(1);
    await workers.stop();

    // Behind patched(): old histories replay as they were written, new decisions take the new path.
    await workers.start(await changedBundle(`if (wf.patched('test-upgrade-v2')) await wf.sleep(10);`));
    const decide = (id: string, route: string, body: object) =>
      api.as('dave').post(`/executions/${id}/${route}`, { stage: 'Release', ...body });
    expect((await decide(approval, 'approvals', { action: 'go', decision: 'approve' })).status).toBe(200);
    expect(
      (await api.as('bob').post(`/executions/${trap}/trap`, { stage: 'Release', action: 'check', decision: 'skip' }))
        .status,
    ).toBe(200);
    await poll(() => waitingFor(trap, 1)).toBe('approval');
    expect((await decide(trap, 'approvals', { action: 'go', decision: 'approve' })).status).toBe(200);
    // The wedged one's task is retried after a backoff that grew with each failed attempt (more of them on a
    // busy machine): until it runs again, reading the execution waits for it and the gateway answers 503
    // ("Temporal did not answer in time"), as it would to a person. Anything else is a failure.
    const status = async (id: string) => {
      const r = await api.get<ExecutionView>(`/executions/${id}`);
      if (r.status === 503) return 'not answering yet';
      if (r.status !== 200) throw new Error(`GET execution ${id}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.status;
    };
    for (const id of [approval, trap, wedged]) await poll(() => status(id), 90_000).toBe('Succeeded');

    // A new execution runs the changed code: its history has the patch's marker and its timer.
    const fresh = await api.trigger(name);
    await poll(() => waitingFor(fresh, 1)).toBe('approval');
    expect((await decide(fresh, 'approvals', { action: 'go', decision: 'approve' })).status).toBe(200);
    expect((await api.waitFor(fresh)).status).toBe('Succeeded');
    const { events } = await client.workflow.getHandle(fresh).fetchHistory();
    const patches = events!
      .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
      .filter((data) => data)
      .map((data) => (JSON.parse(Buffer.from(data!).toString()) as { id: string }).id);
    expect(patches).toContain('test-upgrade-v2');
  }, 180_000);
});
