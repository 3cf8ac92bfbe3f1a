/**
 * `npm run bench`: Paso's figures on one Temporal dev server, in one run, next to plain Temporal doing
 * the same work. Starts its own dev server (free ports, temporary files), a Paso worker and gateway in this
 * process, and a worker for the baselines. Prints the figures; asserts nothing.
 *
 *  1. trigger → first action running (sequential executions, median of BENCH_RUNS)
 *  2. QUEUED stage hand-off: execution N's action ends → N+1's action starts in the same stage, next to a
 *     chain of bare workflows where each signals the next after its activity (the bare round trip)
 *  3. PARALLEL throughput of a 3-stage no-op pipeline, next to a bare workflow running the same 3 activities
 *  4. history events per execution and per stage, coordinator events per hand-off
 */
import { fileStore } from '../src/store/files.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { coordinatorWorkflowId } from '../src/shared/temporal.js';
import { benchPaso, benchServer, pct, runBench, sleep } from './support.js';
import type { PipelineDefinitionInput } from '../src/shared/definition.js';
import type { bareChain, bareThree } from './bare-workflows.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 100);
const THROUGHPUT_N = Number(process.env.BENCH_EXECUTIONS ?? 100);
const TOKEN = 'bench-admin-token';
const here = path.dirname(fileURLToPath(import.meta.url));

Runtime.install({ logger: new DefaultLogger('WARN') });

/** `<id> start|end <ms>` lines written by the commands themselves. */
function stampScript(file: string): string {
  return `echo "$PASO_EXECUTION_ID start $(date +%s%3N)" >> ${file}; echo "$PASO_EXECUTION_ID end $(date +%s%3N)" >> ${file}`;
}

function handoffs(file: string, order: string[]): number[] {
  const at = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [id, what, ms] = line.split(' ');
    at.set(`${id} ${what}`, Number(ms));
  }
  const gaps: number[] = [];
  for (let i = 1; i < order.length; i++) gaps.push(at.get(`${order[i]} start`)! - at.get(`${order[i - 1]} end`)!);
  return gaps;
}

async function main() {
  const { work, server } = await benchServer('bench');
  const paso = await benchPaso(server, work, 'bench', { users: [{ name: 'bench', token: TOKEN, roles: ['admin'] }] });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });

  const bareConnection = await NativeConnection.connect({ address: server.address });
  const bareWorker = await Worker.create({
    connection: bareConnection,
    taskQueue: 'bench-bare',
    workflowsPath: path.join(here, 'bare-workflows.js'),
    activities: createActivities({
      dataDir: path.join(work, 'bare'),
      killGraceMs: 2_000,
      heartbeatMs: 2_000,
      client,
      namespace: 'default',
      identity: 'bench-bare',
      workspaces: { dir: path.join(work, 'bare', 'workspaces'), taskQueue: 'bench-bare' },
      shutdownGraceSeconds: 25,
      store: fileStore(path.join(work, 'bare')),
      taskQueue: 'bench-bare',
      pasoOptions: { notificationUrl: null, publicUrl: '', talkback: [] },
      watchIntervalMs: 3_000,
      slack: null,
      watchMaxRunMs: 60_000,
    }),
  });
  const bareRunning = bareWorker.run();

  const { base } = paso;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const put = async (definition: PipelineDefinitionInput) => {
    const r = await fetch(`${base}/pipelines/${definition.name}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify(definition),
    });
    if (!r.ok) throw new Error(`PUT ${definition.name}: ${r.status} ${await r.text()}`);
  };
  const trigger = async (pipeline: string) => {
    const r = await fetch(`${base}/pipelines/${pipeline}/executions`, { method: 'POST', headers, body: '{}' });
    if (r.status !== 201) throw new Error(`trigger ${pipeline}: ${r.status} ${await r.text()}`);
    return ((await r.json()) as { executionId: string }).executionId;
  };
  const finished = (id: string) => client.workflow.getHandle(id).result();

  // ---- 1. trigger → first action ----
  const marks = path.join(work, 'marks');
  await put({
    name: 'latency',
    executionMode: 'PARALLEL',
    stages: [
      { name: 'S', actions: [{ name: 'mark', type: 'command', run: `date +%s%3N > ${marks}-$PASO_EXECUTION_ID` }] },
    ],
  });
  const latencies: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = Date.now();
    const id = await trigger('latency');
    const file = `${marks}-${id}`;
    while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') await sleep(2);
    if (i > 0) latencies.push(Number(readFileSync(file, 'utf8').trim()) - t0); // the first run warms caches
    await finished(id);
    await sleep(300); // triggers come one at a time, as people make them
  }

  // ---- 2. QUEUED hand-off vs the bare round trip ----
  const queuedStamps = path.join(work, 'queued');
  await put({
    name: 'handoff',
    executionMode: 'QUEUED',
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: stampScript(queuedStamps) }] }],
  });
  const queuedIds: string[] = [];
  for (let i = 0; i <= HANDOFFS; i++) queuedIds.push(await trigger('handoff'));
  await Promise.all(queuedIds.map(finished));
  // The queue admits them in the order they asked; read that order from the stamps.
  const order = readFileSync(queuedStamps, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l.includes(' start '))
    .map((l) => l.split(' ')[0]!);
  const pasoGaps = handoffs(queuedStamps, order);

  const bareStamps = path.join(work, 'bare-chain');
  const bareIds = Array.from({ length: HANDOFFS + 1 }, (_, i) => `bare-chain-${i}`);
  // Start the chain from its end, so that every workflow exists before it is signalled.
  for (let i = bareIds.length - 1; i >= 0; i--) {
    await client.workflow.start<typeof bareChain>('bareChain', {
      workflowId: bareIds[i]!,
      taskQueue: 'bench-bare',
      args: [{ executionId: bareIds[i]!, run: stampScript(bareStamps), first: false, next: bareIds[i + 1] ?? null }],
    });
  }
  await client.workflow.getHandle(bareIds[0]!).signal('go');
  await Promise.all(bareIds.map(finished));
  const bareGaps = handoffs(bareStamps, bareIds);

  // ---- 3. PARALLEL throughput vs bare ----
  await put({
    name: 'throughput',
    executionMode: 'PARALLEL',
    stages: ['S1', 'S2', 'S3'].map((name) => ({ name, actions: [{ name: 'a', type: 'command', run: 'true' }] })),
  });
  let t = Date.now();
  const parallelIds = await Promise.all(Array.from({ length: THROUGHPUT_N }, () => trigger('throughput')));
  await Promise.all(parallelIds.map(finished));
  const pasoRate = THROUGHPUT_N / ((Date.now() - t) / 1000);
  t = Date.now();
  const bareThreeIds = Array.from({ length: THROUGHPUT_N }, (_, i) => `bare-three-${i}`);
  await Promise.all(
    bareThreeIds.map((id) =>
      client.workflow.start<typeof bareThree>('bareThree', {
        workflowId: id,
        taskQueue: 'bench-bare',
        args: [{ executionId: id, run: 'true' }],
      }),
    ),
  );
  await Promise.all(bareThreeIds.map(finished));
  const bareRate = THROUGHPUT_N / ((Date.now() - t) / 1000);

  // ---- 4. history sizes ----
  const eventsOf = async (id: string) => (await client.workflow.getHandle(id).fetchHistory()).events!.length;
  const sample = parallelIds.slice(0, 10);
  const parallelEvents = (await Promise.all(sample.map(eventsOf))).reduce((a, b) => a + b, 0) / sample.length;
  const queuedSample = queuedIds.slice(0, 10);
  const queuedEvents = (await Promise.all(queuedSample.map(eventsOf))).reduce((a, b) => a + b, 0) / queuedSample.length;
  let coordinatorEvents = 0;
  for await (const run of client.workflow.list({ query: `WorkflowId = '${coordinatorWorkflowId('handoff')}'` })) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    coordinatorEvents += history.events!.length;
  }

  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const p50 = pct(pasoGaps, 50);
  const bareP50 = pct(bareGaps, 50);
  console.log('\nPaso benchmark (one dev server, this machine)\n');
  console.log(`trigger → first action running, ${RUNS} sequential executions`);
  console.log(`  median ${ms(pct(latencies, 50))}  p90 ${ms(pct(latencies, 90))}  max ${ms(Math.max(...latencies))}`);
  console.log(`\nstage hand-off, QUEUED, ${pasoGaps.length} hand-offs (action end → next execution's action start)`);
  console.log(`  Paso        p50 ${ms(p50)}  p99 ${ms(pct(pasoGaps, 99))}`);
  console.log(
    `  bare chain  p50 ${ms(bareP50)}  p99 ${ms(pct(bareGaps, 99))}   (activity end → signal → next activity start)`,
  );
  console.log(`  ratio p50   ${(p50 / bareP50).toFixed(2)}×   (target ≤ 2.5×)`);
  console.log(`\nthroughput, ${THROUGHPUT_N} executions of 3 no-op stages started at once`);
  console.log(`  Paso PARALLEL  ${pasoRate.toFixed(1)} executions/s (triggered over HTTP)`);
  console.log(`  bare workflow  ${bareRate.toFixed(1)} workflows/s (started with the client)`);
  console.log(`  ratio          ${(pasoRate / bareRate).toFixed(2)}×   (target ≥ 0.7×)`);
  console.log(`\nhistory`);
  console.log(
    `  PARALLEL execution, 3 stages: ${parallelEvents.toFixed(0)} events (${(parallelEvents / 3).toFixed(1)} per stage)`,
  );
  console.log(`  QUEUED execution, 1 stage:    ${queuedEvents.toFixed(0)} events`);
  console.log(`  coordinator per hand-off:     ${(coordinatorEvents / (HANDOFFS + 1)).toFixed(1)} events`);

  await paso.stop();
  bareWorker.shutdown();
  await bareRunning;
  await bareConnection.close();
  await client.connection.close();
  await server.stop();
}

runBench(main);
