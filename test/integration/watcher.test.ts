/**
 * The coordinator's watcher (issue 15, items 9 and 4): with 500 executions queued behind a holder that is
 * terminated from Temporal, the next one enters within seconds and the others keep their order; a holder whose
 * workflow tasks keep failing after an incompatible deploy has its lock freed, and the next one enters.
 * A gateway of the file's own and workers in this process, on their own task queue, so that the workers can be
 * swapped for ones built from incompatible code without disturbing other tests.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import { bundleWorkflows, SwappableWorker } from '../support/swappable-worker.js';

const TASK_QUEUE = 'paso-watcher';
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-watcher-'));
const dataDir = path.join(workDir, 'data');
const poll = <T>(fn: () => Promise<T> | T, timeout = 30_000) =>
  expect.poll(() => Promise.resolve(fn()), { timeout, interval: 200 });

let client: Client;
let gateway: PasoProcess;
let api: Api;
/** Paso's workflows, and the same with one execution made incompatible (test/fixtures/incompatible-workflows.ts). */
let bundles: { paso: string; incompatible: string };
const workers = new SwappableWorker({ client: () => client, taskQueue: TASK_QUEUE, dataDir });

/** Both bundles are built here from the same sources, so that everything but the wedged execution replays. */
async function bundle(workflowsPath: string, file: string): Promise<string> {
  const out = path.join(workDir, file);
  writeFileSync(out, await bundleWorkflows(workflowsPath));
  return out;
}

async function stageState(pipeline: string) {
  const r = await api.get<PipelineState>(`/pipelines/${pipeline}/state`);
  if (r.status !== 200) throw new Error(`GET state: ${r.status} ${r.text}`);
  return r.body.stages[0]!;
}

/** `fn` over `items`, at most `limit` at a time. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

/** Terminates the pipeline's running executions, so that they load nothing after the test. */
async function terminateAll(pipeline: string): Promise<void> {
  const ids: string[] = [];
  const query = `WorkflowType = 'execution' AND PasoPipeline = '${pipeline}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  await inPool(ids, 20, (id) =>
    client.workflow
      .getHandle(id)
      .terminate('watcher test: cleaning up')
      .catch(() => undefined),
  );
}

const executionNumber = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));

/**
 * Triggers as a careful client does: with an idempotency key, again on a 5xx. Returns the execution id and how
 * many answers were 5xx (the gateway answers 500 when a coordinator's workflow task fails under an Update, e.g.
 * as it continues-as-new with signals arriving).
 */
async function triggerSafely(pipeline: string, key: string): Promise<{ id: string; errors: number }> {
  for (let errors = 0; ; errors++) {
    const r = await api.as('bob').post<{ executionId: string }>(`/pipelines/${pipeline}/executions`, {
      idempotencyKey: key,
    });
    if (r.status === 201 || r.status === 200) return { id: r.body.executionId, errors };
    if (r.status < 500 || errors >= 5) throw new Error(`trigger: ${r.status} ${r.text}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  bundles = {
    paso: await bundle(path.join(ROOT, 'src', 'workflows', 'index.ts'), 'paso-bundle.js'),
    incompatible: await bundle(
      path.join(ROOT, 'test', 'fixtures', 'incompatible-workflows.ts'),
      'incompatible-bundle.js',
    ),
  };
  gateway = await PasoProcess.startGateway({
    temporalAddress: inject('temporalAddress'),
    dataDir,
    configFile: inject('configFile'),
    taskQueue: TASK_QUEUE,
    logFile: path.join(workDir, 'gateway.log'),
  });
  api = new Api(gateway.url);
  await workers.start(bundles.paso);
});
afterAll(async () => {
  await workers.stop();
  await gateway?.stop();
  await client?.connection.close();
});

describe('the coordinator watcher', () => {
  it('lets the next of 500 queued executions in within seconds of the holder being terminated', async () => {
    const name = uniqueName('queued');
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [{ name: 'Deploy', actions: [{ name: 'hold', type: 'command', run: 'sleep 600' }] }],
    });
    try {
      const holder = await api.trigger(name);
      await poll(async () => (await stageState(name)).lockedBy).toBe(holder);

      const triggering = Date.now();
      const queued: string[] = [];
      let errors = 0;
      await inPool([...Array(500).keys()], 10, async (i) => {
        const triggered = await triggerSafely(name, `queued-${i}`);
        queued.push(triggered.id);
        errors += triggered.errors;
      });
      queued.sort((a, b) => executionNumber(a) - executionNumber(b));
      expect(new Set(queued).size).toBe(500);
      const visible = `WorkflowType = 'execution' AND PasoPipeline = '${name}' AND ExecutionStatus = 'Running'`;
      await poll(async () => (await client.workflow.count(visible)).count, 60_000).toBe(501);
      await poll(async () => (await stageState(name)).inbound.length, 60_000).toBe(500);
      console.log(`watcher: 500 executions triggered and queued in ${Date.now() - triggering} ms (${errors} × 5xx)`);

      const terminated = Date.now();
      await client.workflow.getHandle(holder).terminate('watcher test: the holder is gone');
      await poll(async () => (await stageState(name)).lockedBy, 30_000).toBe(queued[0]);
      console.log(`watcher: with 500 queued, the next entered ${Date.now() - terminated} ms after the holder ended`);

      const after = await stageState(name);
      expect(after.inbound.map((w) => w.executionId)).toEqual(queued.slice(1));
      expect(after.inbound.every((w) => w.waitingFor === 'STAGE_LOCK')).toBe(true);
      await poll(async () => (await api.execution(queued[0]!)).stages[0]!.status).toBe('InProgress');
    } finally {
      await terminateAll(name);
    }
  }, 240_000);

  it('frees the lock of a holder whose workflow tasks keep failing after an incompatible deploy', async () => {
    // The fixture's incompatible code wedges execution 1 of a pipeline named `wedged-…`.
    const name = uniqueName('wedged');
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [{ name: 'Deploy', actions: [{ name: 'soak', type: 'wait', seconds: 20 }] }],
    });
    try {
      const holder = await api.trigger(name);
      expect(holder).toBe(`${name}-1`);
      await poll(async () => (await stageState(name)).lockedBy).toBe(holder);
      const next = await api.trigger(name);
      await poll(async () => (await stageState(name)).inbound.map((w) => w.executionId)).toEqual([next]);

      // The deploy: the workers are replaced before the holder's timer fires; it then replays and fails.
      const deployed = Date.now();
      await workers.stop();
      await workers.start(bundles.incompatible);
      const attempt = async () => (await client.workflow.getHandle(holder).describe()).raw.pendingWorkflowTask?.attempt;
      await poll(async () => (await attempt()) ?? 0, 45_000).toBeGreaterThan(1);
      const failing = Date.now();

      await poll(async () => (await stageState(name)).lockedBy, 60_000).toBe(next);
      const freed = Date.now();
      console.log(
        `watcher: the wedged holder's workflow task failed ${failing - deployed} ms after the deploy; ` +
          `its lock was freed ${freed - failing} ms later`,
      );
      // Temporal still shows it running: only its failing workflow task told the watcher.
      expect((await client.workflow.getHandle(holder).describe()).status.name).toBe('RUNNING');
      expect(await attempt()).toBeGreaterThanOrEqual(3);
      expect((await api.execution(next)).stages[0]!.status).toBe('InProgress');
    } finally {
      await terminateAll(name);
    }
  }, 150_000);
});
