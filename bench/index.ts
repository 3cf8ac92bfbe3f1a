/**
 * `npm run bench`: Paso's figures on one Temporal dev server, in one run, next to plain Temporal doing
 * the same work. Starts its own dev server (free ports, temporary files), a Paso worker and gateway in this
 * process, and a worker for the baselines. Prints the figures; asserts nothing.
 * `npm run bench -- --cluster` measures the same figures a second time on the cluster of `npm run cluster`
 * (a full Temporal server on PostgreSQL, two worker processes, two gateway processes) and prints both side
 * by side.
 *
 *  1. trigger → first action running (sequential executions, median of BENCH_RUNS)
 *  2. QUEUED stage hand-off: execution N's action ends → N+1's action starts in the same stage, next to a
 *     chain of bare workflows where each signals the next after its activity (the bare round trip); and where
 *     each hop goes (p50 of each step, from the command stamps and the histories): the command's end → (bare:
 *     its activity completed → the workflow task that sends the signal done; Paso: the coordinator signalled
 *     `leaveStage`, by the command's worker as it ends (src/workflows/hand-off.ts) → its task that grants the
 *     stage done) → the next workflow signalled → its task done → its activity started → its command running;
 *     and the worker's mean time per workflow task meanwhile (the SDK's metric, by workflow type: what the worker
 *     adds to each task step)
 *     2b. QUEUED executions of three stages one after another: how long each takes, and how long the signals
 *     between it and its coordinator take to arrive (an execution leaving a stage as the coordinator grants it
 *     the next one: two signals crossing, see src/temporal/latency.ts)
 *  3. PARALLEL throughput of a 3-stage no-op pipeline, next to a bare workflow running the same 3 activities, and
 *     what each costs in CPU per execution (from /proc: Temporal's server processes, and everything else this
 *     process started or runs; not PostgreSQL's, on the cluster); on this machine the CPU is the bound, so the
 *     CPU ratio explains the rate ratio
 *  4. history events per execution and per stage, coordinator events per hand-off
 *  5. 1,000 triggers of one QUEUED pipeline at once, spread over the gateways: accepted/s, latency, errors;
 *     then all 1,000 run: none lost, none twice, in execution-number order (FIFO)
 *  6. queue depth: the hand-off with one execution waiting (30 pairs) against the hand-offs of the burst while
 *     hundreds wait in front of the stage
 *
 * `BENCH_ONLY=depth` measures 5 and 6 alone, and adds what the worker's SDK metrics say about each phase (mean
 * workflow task and activation times by workflow type, sticky cache misses): the queue-depth figures without
 * waiting for the rest.
 * The baselines run with the SDK's defaults, so their workflow code takes a stack trace for every promise (Paso's
 * does not, see src/workflows/no-stack-traces.ts); `BENCH_BARE_STACK_TRACES=off` turns theirs off too.
 * `BENCH_ONLY=parallel` measures 3 alone, BENCH_ROUNDS (5) times, Paso's round and the bare one alternating (the
 * machine's speed drifts over minutes): each round's figures, and the median ratio.
 */
import { fileStore } from '../src/store/files.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/config.js';
import { Secrets } from '../src/secrets.js';
import { coordinatorWorkflowId } from '../src/shared/temporal.js';
import { startCluster } from '../scripts/cluster/topology.js';
import { NO_STACK_TRACES_MODULE } from '../src/temporal/worker.js';
import { benchPaso, benchServer, pct, runBench, sleep, treeCpu, type TreeCpu } from './support.js';
import type { PipelineDefinitionInput } from '../src/shared/definition.js';
import type { bareChain, bareThree } from './bare-workflows.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const HANDOFFS = Number(process.env.BENCH_HANDOFFS ?? 100);
const THROUGHPUT_N = Number(process.env.BENCH_EXECUTIONS ?? 100);
const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 1000);
const DEPTH_ONLY = process.env.BENCH_ONLY === 'depth';
/** The sticky cache of the workers the benchmark starts (the default unless PASO_MAX_CACHED_WORKFLOWS is set). */
const CACHED_WORKFLOWS = Number(process.env.PASO_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS);
const PARALLEL_ONLY = process.env.BENCH_ONLY === 'parallel';
/** With `BENCH_ONLY=parallel`: how many Paso and bare rounds, alternating. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The baselines' workflow code takes stack traces, as the SDK's default; `BENCH_BARE_STACK_TRACES=off`: as Paso's. */
const BARE_STACK_TRACES = process.env.BENCH_BARE_STACK_TRACES !== 'off';
const TOKEN = 'bench-admin-token';
const USERS = { users: [{ name: 'bench', token: TOKEN, roles: ['admin'] }] };
const here = path.dirname(fileURLToPath(import.meta.url));

/** `<id> start|end <ms>` lines written by the commands themselves, `seconds` apart. */
function stampScript(file: string, seconds = 0): string {
  const stamp = (what: string) => `echo "$PASO_EXECUTION_ID ${what} $(date +%s%3N)" >> ${file}`;
  return `${stamp('start')}; ${seconds ? `sleep ${seconds}; ` : ''}${stamp('end')}`;
}

/** When the server wrote a history event, in ms since the epoch. */
function eventTime(event: temporal.api.history.v1.IHistoryEvent): number {
  return Number(event.eventTime!.seconds) * 1000 + (event.eventTime!.nanos ?? 0) / 1e6;
}

/** When each command started and ended (`<id> start|end` → ms), from the stamps the commands wrote. */
function stamps(file: string): Map<string, number> {
  const at = new Map<string, number>();
  for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
    const [id, what, ms] = line.split(' ');
    at.set(`${id} ${what}`, Number(ms));
  }
  return at;
}

function handoffs(file: string, order: string[]): number[] {
  const at = stamps(file);
  const gaps: number[] = [];
  for (let i = 1; i < order.length; i++) gaps.push(at.get(`${order[i]} start`)! - at.get(`${order[i - 1]} end`)!);
  return gaps;
}

/** A history event as the hop breakdown reads it: its kind, its time, and a signal's name and argument. */
interface HopEvent {
  kind: string;
  at: number;
  signal?: string;
  arg?: unknown;
}

/** The events of a workflow (with `allRuns`, of all its runs: a coordinator continues as new), in order. */
async function hopEvents(client: Client, workflowId: string, allRuns = false): Promise<HopEvent[]> {
  const runs: (string | undefined)[] = [];
  if (!allRuns) runs.push(undefined);
  else for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(run.runId);
  const events: HopEvent[] = [];
  for (const runId of runs) {
    for (const e of (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? []) {
      const kind = Object.keys(e)
        .find((k) => k.endsWith('EventAttributes'))!
        .replace(/EventAttributes$/, '');
      const signalled = e.workflowExecutionSignaledEventAttributes;
      const payload = signalled?.input?.payloads?.[0];
      events.push({
        kind,
        at: eventTime(e),
        ...(signalled
          ? { signal: signalled.signalName ?? '', arg: payload && defaultPayloadConverter.fromPayload(payload) }
          : {}),
      });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** The first event of `kind` at or after `from` (and matching `where`), or -1. */
function nextEvent(events: HopEvent[], from: number, kind: string, where: (e: HopEvent) => boolean = () => true) {
  if (from < 0) return -1;
  for (let i = from; i < events.length; i++) if (events[i]!.kind === kind && where(events[i]!)) return i;
  return -1;
}

/**
 * The steps of each hop of a chain, in ms: from the command's end stamp, through `middle` (the times of what
 * carries the hop to the next workflow: null when not found), the next workflow's `signal`, its workflow task
 * and its activity's start, to the next command's start stamp.
 */
async function hopSteps(
  client: Client,
  order: string[],
  stampFile: string,
  signal: string,
  middle: (from: HopEvent[], fromId: string, endedAt: number) => number[] | null,
): Promise<number[][]> {
  const at = stamps(stampFile);
  const steps: number[][] = [];
  for (let i = 1; i < order.length; i++) {
    const [a, b] = [await hopEvents(client, order[i - 1]!), await hopEvents(client, order[i]!)];
    const endedAt = at.get(`${order[i - 1]} end`)!;
    const signalled = nextEvent(b, 0, 'workflowExecutionSignaled', (e) => e.signal === signal);
    const decided = nextEvent(b, signalled, 'workflowTaskCompleted');
    const started = nextEvent(b, decided, 'activityTaskStarted');
    const via = middle(a, order[i - 1]!, endedAt);
    if ([signalled, decided, started].includes(-1) || via === null) continue;
    const points = [endedAt, ...via, b[signalled]!.at, b[decided]!.at, b[started]!.at, at.get(`${order[i]} start`)!];
    steps.push(points.slice(1).map((t, k) => t - points[k]!));
  }
  return steps;
}

/** The bare chain's hop passes through the workflow: its activity's completion, then its task's signal. */
function throughWorkflow(a: HopEvent[]): number[] | null {
  const completed = nextEvent(a, 0, 'activityTaskCompleted');
  const sent = nextEvent(a, completed, 'workflowTaskCompleted');
  return completed < 0 || sent < 0 ? null : [a[completed]!.at, a[sent]!.at];
}

/** The p50 of each step of the hops, joined for the report. */
function stepP50s(steps: number[][]): string {
  if (steps.length === 0) return 'n/a';
  return (
    steps[0]!
      .map((_, k) =>
        pct(
          steps.map((s) => s[k]!),
          50,
        ).toFixed(0),
      )
      .join(' / ') + ' ms'
  );
}

/** Where the figures are taken: a Temporal server, Paso's gateways on it, and its task queue. */
interface Target {
  label: string;
  address: string;
  gateways: string[];
  work: string;
  stop(): Promise<void>;
}

async function devServerTarget(): Promise<Target> {
  const { work, server } = await benchServer('bench');
  const paso = await benchPaso(server, work, 'bench', USERS);
  return {
    label: 'dev server',
    address: server.address,
    gateways: [paso.base],
    work,
    async stop() {
      await paso.stop();
      await server.stop();
    },
  };
}

async function clusterTarget(): Promise<Target> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'paso-bench-cluster-'));
  const cluster = await startCluster({ dir: work, config: USERS, taskQueue: 'bench', log: () => undefined });
  return {
    label: 'cluster',
    address: cluster.temporal.address,
    gateways: cluster.gateways.map((g) => g.url),
    work,
    stop: () => cluster.stop(),
  };
}

/** Where trigger → first action goes: trigger → execution started → first workflow task done → its command's
 * activity started → the command running. */
interface LatencySteps {
  started: number[];
  firstTask: number[];
  activity: number[];
  command: number[];
}

/** Sections 1–4 (absent with `BENCH_ONLY=depth`). */
interface BaseFigures {
  latencies: number[];
  steps: LatencySteps;
  /** 2b: the three-stage executions' durations, and every signal's initiated → delivered delay. */
  threeStages: { durations: number[]; signalDelays: number[] };
  pasoGaps: number[];
  bareGaps: number[];
  /** Each hop's steps (see hopSteps): Paso's through the coordinator, the bare chain's direct. */
  pasoSteps: number[][];
  bareSteps: number[][];
  /** The worker's time per workflow task during the hand-offs (SDK metrics; null where no worker reports them). */
  taskMs: { execution: number | null; coordinator: number | null; bare: number | null };
  pasoRate: number;
  bareRate: number;
  /** What the PARALLEL round cost, per execution, in CPU. */
  parallelCpu: RoundCpu;
  parallelEvents: number;
  queuedEvents: number;
  coordinatorPerHandoff: number;
}

/** Sections 5 and 6, and what the SDK metrics say of the pairs (shallow) and of the burst once all are in (deep). */
interface DepthFigures {
  triggers: { seconds: number; latencies: number[]; retried: number; errors: string[] };
  burst: { ran: number; distinct: number; outOfOrder: number; maxDepth: number; deepGaps: number[] };
  shallowGaps: number[];
  sdk: { shallow: string[]; deep: string[] };
  /** The worker's sticky-cache misses while the burst drained (null: no worker metrics, as on the cluster). */
  drainMisses: number | null;
}

interface Figures extends DepthFigures {
  base: BaseFigures | null;
}

/** Paso's HTTP API as the benchmark uses it, and a Temporal client to wait for executions. */
interface Api {
  client: Client;
  base: string;
  headers: Record<string, string>;
  put: (definition: PipelineDefinitionInput) => Promise<void>;
  trigger: (pipeline: string) => Promise<string>;
  finished: (id: string) => Promise<unknown>;
}

/** Paso's HTTP API on one gateway, as the benchmark uses it. */
function benchApi(client: Client, base: string): Api {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  return {
    client,
    base,
    headers,
    put: async (definition) => {
      const r = await fetch(`${base}/pipelines/${definition.name}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify(definition),
      });
      if (!r.ok) throw new Error(`PUT ${definition.name}: ${r.status} ${await r.text()}`);
    },
    trigger: async (pipeline) => {
      const r = await fetch(`${base}/pipelines/${pipeline}/executions`, { method: 'POST', headers, body: '{}' });
      if (r.status !== 201) throw new Error(`trigger ${pipeline}: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { executionId: string }).executionId;
    },
    finished: (id) => client.workflow.getHandle(id).result(),
  };
}

async function measure(target: Target): Promise<Figures> {
  const client = new Client({ connection: await Connection.connect({ address: target.address }) });
  const api = benchApi(client, target.gateways[0]!);
  try {
    const baseFigures = DEPTH_ONLY ? null : await measureBase(target, api);
    return { base: baseFigures, ...(await measureDepth(target, api)) };
  } finally {
    await client.connection.close();
  }
}

/** A worker for the baselines (bare-workflows.ts) on the target's server, running the same activities as Paso's. */
async function startBareWorker(target: Target, client: Client): Promise<{ stop(): Promise<void> }> {
  const { work } = target;
  const bareConnection = await NativeConnection.connect({ address: target.address });
  const bareWorker = await Worker.create({
    connection: bareConnection,
    taskQueue: 'bench-bare',
    workflowsPath: path.join(here, 'bare-workflows.js'),
    // The SDK's default (stack traces on), unless BENCH_BARE_STACK_TRACES=off gives the baselines Paso's default.
    ...(BARE_STACK_TRACES ? {} : { bundlerOptions: { preloadModules: [NO_STACK_TRACES_MODULE] } }),
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
      secrets: new Secrets([]),
      taskQueue: 'bench-bare',
      pasoOptions: { notificationUrl: null, publicUrl: '', talkback: [] },
      watchIntervalMs: 3_000,
      slack: null,
      watchMaxRunMs: 60_000,
    }),
  });
  const bareRunning = bareWorker.run();
  return {
    async stop() {
      bareWorker.shutdown();
      await bareRunning;
      await bareConnection.close();
    },
  };
}

/** The 3-stage no-op PARALLEL pipeline the throughput is measured on. */
const THROUGHPUT_PIPELINE: PipelineDefinitionInput = {
  name: 'throughput',
  executionMode: 'PARALLEL',
  stages: ['S1', 'S2', 'S3'].map((name) => ({ name, actions: [{ name: 'a', type: 'command', run: 'true' }] })),
};

/** CPU per execution in a PARALLEL round: Temporal's servers, and the rest (worker, gateway, commands). */
interface RoundCpu {
  paso: TreeCpu;
  bare: TreeCpu;
}

/** The CPU spent since `before`, per one of `n` executions. */
function cpuPer(before: TreeCpu, n: number): TreeCpu {
  const now = treeCpu();
  return { server: (now.server - before.server) / n, rest: (now.rest - before.rest) / n };
}

/**
 * Section 3, once: THROUGHPUT_N Paso executions at once, then as many bare workflows (ids prefixed `round`),
 * with the CPU each kind cost (this machine's two cores are the bound: the ratio of CPU is the ratio of rates).
 */
async function parallelRound(
  { client, trigger, finished }: Api,
  round: string,
): Promise<{ pasoRate: number; bareRate: number; parallelIds: string[]; cpu: RoundCpu }> {
  let t = Date.now();
  let cpu = treeCpu();
  const parallelIds = await Promise.all(Array.from({ length: THROUGHPUT_N }, () => trigger(THROUGHPUT_PIPELINE.name)));
  await Promise.all(parallelIds.map(finished));
  const pasoRate = THROUGHPUT_N / ((Date.now() - t) / 1000);
  const pasoCpu = cpuPer(cpu, THROUGHPUT_N);
  t = Date.now();
  cpu = treeCpu();
  const bareThreeIds = Array.from({ length: THROUGHPUT_N }, (_, i) => `bare-three-${round}${i}`);
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
  return { pasoRate, bareRate, parallelIds, cpu: { paso: pasoCpu, bare: cpuPer(cpu, THROUGHPUT_N) } };
}

/** "server / rest ms" of a round's CPU per execution. */
function cpuText({ server, rest }: TreeCpu): string {
  return `${server.toFixed(1)} / ${rest.toFixed(1)} ms`;
}

/** `BENCH_ONLY=parallel`: section 3, ROUNDS times (after a warm-up round), printed as it goes. */
async function measureParallel(target: Target): Promise<void> {
  const client = new Client({ connection: await Connection.connect({ address: target.address }) });
  const api = benchApi(client, target.gateways[0]!);
  const bare = await startBareWorker(target, client);
  try {
    await api.put(THROUGHPUT_PIPELINE);
    await parallelRound(api, 'warm-');
    const ratios: number[] = [];
    console.log(
      `\nPARALLEL, ${THROUGHPUT_N} × 3 no-op stages at once (${target.label}${BARE_STACK_TRACES ? '' : '; baselines without stack traces'}): executions/s`,
    );
    const cpus: RoundCpu[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const { pasoRate, bareRate, cpu } = await parallelRound(api, `${round}-`);
      ratios.push(pasoRate / bareRate);
      cpus.push(cpu);
      console.log(
        `  round ${round}: Paso ${pasoRate.toFixed(1)}, bare ${bareRate.toFixed(1)}, ratio ${ratios.at(-1)!.toFixed(2)}×; ` +
          `CPU per execution, Temporal / the rest: Paso ${cpuText(cpu.paso)}, bare ${cpuText(cpu.bare)}`,
      );
    }
    const mean = (pick: (c: RoundCpu) => TreeCpu): TreeCpu => ({
      server: cpus.reduce((sum, c) => sum + pick(c).server, 0) / cpus.length,
      rest: cpus.reduce((sum, c) => sum + pick(c).rest, 0) / cpus.length,
    });
    console.log(`  median ratio Paso / bare: ${pct(ratios, 50).toFixed(2)}×`);
    console.log(
      `  mean CPU per execution, Temporal / the rest: Paso ${cpuText(mean((c) => c.paso))}, bare ${cpuText(mean((c) => c.bare))}`,
    );
  } finally {
    await bare.stop();
    await client.connection.close();
  }
}

async function measureBase(target: Target, api: Api): Promise<BaseFigures> {
  const { client, put, trigger, finished } = api;
  const { work } = target;
  const bare = await startBareWorker(target, client);

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
  const steps: LatencySteps = { started: [], firstTask: [], activity: [], command: [] };
  for (let i = 0; i <= RUNS; i++) {
    const t0 = Date.now();
    const id = await trigger('latency');
    const file = `${marks}-${id}`;
    while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') await sleep(2);
    const running = Number(readFileSync(file, 'utf8').trim());
    await finished(id);
    if (i > 0) {
      // the first run warms caches
      latencies.push(running - t0);
      // Where the time went, from the server's clock in the history (the same machine's clock).
      const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
      const started = eventTime(events[0]!);
      const firstTask = eventTime(events.find((e) => e.workflowTaskCompletedEventAttributes)!);
      const activity = eventTime(events.find((e) => e.activityTaskStartedEventAttributes)!);
      steps.started.push(started - t0);
      steps.firstTask.push(firstTask - started);
      steps.activity.push(activity - firstTask);
      steps.command.push(running - activity);
    }
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
  const sdkBeforeHandoffs = await sdkMetrics(api.base);
  for (let i = 0; i <= HANDOFFS; i++) queuedIds.push(await trigger('handoff'));
  await Promise.all(queuedIds.map(finished));
  const sdkAfterHandoffs = await sdkMetrics(api.base);
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
  const taskMs = {
    execution: meanTaskMs(sdkBeforeHandoffs, sdkAfterHandoffs, 'execution'),
    coordinator: meanTaskMs(sdkBeforeHandoffs, sdkAfterHandoffs, 'coordinator'),
    bare: meanTaskMs(sdkAfterHandoffs, await sdkMetrics(api.base), 'bareChain'),
  };
  // Where each hop goes. Paso's passes through the coordinator: the leave (sent by the command's worker as the command ends, or by
  // the workflow after it), then the coordinator's task that grants the stage to the next.
  const coordinator = await hopEvents(client, coordinatorWorkflowId('handoff'), true);
  const pasoSteps = await hopSteps(client, order, queuedStamps, 'stageGranted', (_, from, endedAt) => {
    const left = nextEvent(coordinator, 0, 'workflowExecutionSignaled', (e) => {
      const arg = e.arg as { executionId?: string } | undefined;
      return e.signal === 'leaveStage' && arg?.executionId === from && e.at >= endedAt - 1;
    });
    const granted = nextEvent(coordinator, left, 'workflowTaskCompleted');
    return left < 0 || granted < 0 ? null : [coordinator[left]!.at, coordinator[granted]!.at];
  });
  const bareSteps = await hopSteps(client, bareIds, bareStamps, 'go', throughWorkflow);

  // ---- 2b. QUEUED executions of three stages, one after another ----
  await put({
    name: 'stages',
    executionMode: 'QUEUED',
    stages: ['S1', 'S2', 'S3'].map((name) => ({ name, actions: [{ name: 'a', type: 'command', run: 'true' }] })),
  });
  const threeStages = { durations: [] as number[], signalDelays: [] as number[] };
  for (let i = 0; i < RUNS + 10; i++) {
    const id = await trigger('stages');
    await finished(id);
    const events = (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    threeStages.durations.push(eventTime(events.at(-1)!) - eventTime(events[0]!));
    const initiated = new Map<string, number>();
    for (const e of events) {
      if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) initiated.set(String(e.eventId), eventTime(e));
      const signalled = e.externalWorkflowExecutionSignaledEventAttributes;
      if (signalled) threeStages.signalDelays.push(eventTime(e) - initiated.get(String(signalled.initiatedEventId))!);
    }
  }

  // ---- 3. PARALLEL throughput vs bare ----
  await put(THROUGHPUT_PIPELINE);
  const { pasoRate, bareRate, parallelIds, cpu: parallelCpu } = await parallelRound(api, '');

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

  await bare.stop();
  return {
    latencies,
    steps,
    threeStages,
    pasoGaps,
    bareGaps,
    pasoSteps,
    bareSteps,
    taskMs,
    pasoRate,
    bareRate,
    parallelCpu,
    parallelEvents,
    queuedEvents,
    coordinatorPerHandoff: coordinatorEvents / (HANDOFFS + 1),
  };
}

async function measureDepth(target: Target, { base, headers, put, trigger, finished }: Api): Promise<DepthFigures> {
  const { work } = target;
  // ---- 6a. hand-off with one execution waiting ----
  const pairStamps = path.join(work, 'pairs');
  await put({
    name: 'pairs',
    executionMode: 'QUEUED',
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: stampScript(pairStamps, 0.3) }] }],
  });
  const shallowGaps: number[] = [];
  const sdkBefore = await sdkMetrics(base);
  for (let i = 0; i < 30; i++) {
    const first = await trigger('pairs');
    const second = await trigger('pairs'); // waits alone in front of the stage while the first runs
    await Promise.all([finished(first), finished(second)]);
    shallowGaps.push(...handoffs(pairStamps, [first, second]));
  }

  const sdkPairs = await sdkMetrics(base);

  // ---- 5. 1,000 triggers at once into one pipeline, over every gateway ----
  const burstStamps = path.join(work, 'burst');
  await put({
    name: 'burst',
    executionMode: 'QUEUED',
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: stampScript(burstStamps) }] }],
  });
  const accepted: { id: string; at: number }[] = [];
  const triggerLatencies: number[] = [];
  const errors: string[] = [];
  let retried = 0;
  const t = Date.now();
  await Promise.all(
    Array.from({ length: TRIGGERS }, async (_, i) => {
      const gateway = target.gateways[i % target.gateways.length]!;
      const started = Date.now();
      for (;;) {
        const r = await fetch(`${gateway}/pipelines/burst/executions`, { method: 'POST', headers, body: '{}' }).catch(
          (err: Error) => err,
        );
        if (r instanceof Error || (r.status !== 201 && r.status !== 503)) {
          errors.push(r instanceof Error ? r.message : `${r.status} ${await r.text()}`);
          return;
        }
        if (r.status === 201) {
          accepted.push({ id: ((await r.json()) as { executionId: string }).executionId, at: Date.now() });
          triggerLatencies.push(Date.now() - started);
          return;
        }
        retried++;
        await r.arrayBuffer();
        await sleep(Number(r.headers.get('retry-after') ?? 1) * 1000);
      }
    }),
  );
  const burstSeconds = (Date.now() - t) / 1000;
  const sdkAllIn = await sdkMetrics(base);
  // ---- 6b. all of them run, in order; the hand-offs while many wait ----
  await Promise.all(accepted.map((a) => finished(a.id)));
  const burst = burstFigures(burstStamps, accepted);

  const sdkDrained = await sdkMetrics(base);
  const sdk = { shallow: sdkDelta(sdkBefore, sdkPairs), deep: sdkDelta(sdkAllIn, sdkDrained) };
  const missKeys = [...sdkDrained.keys()].filter((key) => key.startsWith('temporal_sticky_cache_miss'));
  return {
    triggers: { seconds: burstSeconds, latencies: triggerLatencies, retried, errors },
    burst,
    shallowGaps,
    sdk,
    drainMisses:
      sdkDrained.size === 0 ? null : missKeys.reduce((n, key) => n + metricDelta(sdkAllIn, sdkDrained, key), 0),
  };
}

/**
 * What the burst's stamps say: how many ran and how many distinct, how many started out of execution-number
 * order, and the hand-off gaps taken once all were accepted while at least half of the queue then waited in
 * front of the stage (the queue's depth: executions accepted that had not started yet).
 */
function burstFigures(file: string, accepted: { id: string; at: number }[]) {
  const starts = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .filter(([, what]) => what === 'start')
    .map(([id, , ms]) => ({ id: id!, at: Number(ms) }))
    .sort((a, b) => a.at - b.at);
  const number = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));
  let outOfOrder = 0;
  for (let i = 1; i < starts.length; i++) if (number(starts[i]!.id) < number(starts[i - 1]!.id)) outOfOrder++;
  const order = starts.map((s) => s.id);
  const gaps = handoffs(file, order);
  // Once every trigger is in, the queue only shrinks and nothing else loads the coordinator: the hand-offs
  // taken then, while at least half of the queue left at that moment still waits.
  const lastAccepted = Math.max(...accepted.map((a) => a.at));
  const waiting = (at: number) => accepted.length - starts.filter((x) => x.at <= at).length;
  const maxDepth = waiting(lastAccepted);
  return {
    ran: starts.length,
    distinct: new Set(order).size,
    outOfOrder,
    maxDepth,
    deepGaps: gaps.filter((_, i) => starts[i + 1]!.at > lastAccepted && waiting(starts[i + 1]!.at) >= maxDepth / 2),
  };
}

function report(targets: Target[], figures: Figures[]): void {
  const ms = (v: number) => `${v.toFixed(0)} ms`;
  const baseRows: [string, (f: BaseFigures) => string][] = [
    [
      `trigger → first action running, ${RUNS} sequential: median / p90`,
      (f) => `${ms(pct(f.latencies, 50))} / ${ms(pct(f.latencies, 90))}`,
    ],
    [
      '  p50s: trigger → started / first workflow task / activity started / command running',
      (f) =>
        [f.steps.started, f.steps.firstTask, f.steps.activity, f.steps.command].map((v) => ms(pct(v, 50))).join(' / '),
    ],
    [
      `QUEUED execution of 3 stages, ${RUNS + 10} one after another: p50 / p90`,
      (f) => `${ms(pct(f.threeStages.durations, 50))} / ${ms(pct(f.threeStages.durations, 90))}`,
    ],
    [
      '  its signals to and from the coordinator: p50 / p99 / over 100 ms',
      (f) => {
        const d = f.threeStages.signalDelays;
        return `${ms(pct(d, 50))} / ${ms(pct(d, 99))} / ${d.filter((x) => x > 100).length} of ${d.length}`;
      },
    ],
    [
      `QUEUED hand-off, ${HANDOFFS} (action end → next action start): p50 / p99`,
      (f) => `${ms(pct(f.pasoGaps, 50))} / ${ms(pct(f.pasoGaps, 99))}`,
    ],
    [
      '  p50s: end → leave at the coordinator / its task (grant) / next / its task / activity / command',
      (f) => stepP50s(f.pasoSteps),
    ],
    [
      'bare chain (activity end → signal → next activity): p50 / p99',
      (f) => `${ms(pct(f.bareGaps, 50))} / ${ms(pct(f.bareGaps, 99))}`,
    ],
    [
      '  p50s: end → completed / its task (signal) / next / its task / activity / command',
      (f) => stepP50s(f.bareSteps),
    ],
    [
      'worker time per workflow task (SDK metric, mean): execution / coordinator / bare chain',
      (f) =>
        [f.taskMs.execution, f.taskMs.coordinator, f.taskMs.bare].map((v) => (v === null ? 'n/a' : ms(v))).join(' / '),
    ],
    [
      'hand-off ratio Paso / bare, p50 (target ≤ 1.52×)',
      (f) => `${(pct(f.pasoGaps, 50) / pct(f.bareGaps, 50)).toFixed(2)}×`,
    ],
    [`PARALLEL, ${THROUGHPUT_N} × 3 no-op stages at once: executions/s`, (f) => f.pasoRate.toFixed(1)],
    ['bare workflows doing the same: workflows/s', (f) => f.bareRate.toFixed(1)],
    ['throughput ratio Paso / bare (target ≥ 0.85×)', (f) => `${(f.pasoRate / f.bareRate).toFixed(2)}×`],
    [
      '  CPU per execution, Temporal / the rest (worker, gateway, commands): Paso; bare',
      (f) => `${cpuText(f.parallelCpu.paso)}; ${cpuText(f.parallelCpu.bare)}`,
    ],
    [
      'history: PARALLEL execution of 3 stages / QUEUED of 1',
      (f) => `${f.parallelEvents.toFixed(0)} / ${f.queuedEvents.toFixed(0)} events`,
    ],
    ['coordinator events per hand-off', (f) => f.coordinatorPerHandoff.toFixed(1)],
  ];
  const depthRows: [string, (f: DepthFigures) => string][] = [
    [
      `${TRIGGERS} triggers of one QUEUED pipeline at once: accepted/s`,
      (f) => (f.triggers.latencies.length / f.triggers.seconds).toFixed(1),
    ],
    [
      '  their latency (Retry-After waits included): p50 / p99',
      (f) => `${ms(pct(f.triggers.latencies, 50))} / ${ms(pct(f.triggers.latencies, 99))}`,
    ],
    ['  answered 503 first (then retried) / errors', (f) => `${f.triggers.retried} / ${f.triggers.errors.length}`],
    [
      '  then ran / distinct / started out of FIFO order',
      (f) => `${f.burst.ran} / ${f.burst.distinct} / ${f.burst.outOfOrder}`,
    ],
    [
      'hand-off with 1 waiting (30 pairs): p50 / p90',
      (f) => `${ms(pct(f.shallowGaps, 50))} / ${ms(pct(f.shallowGaps, 90))}`,
    ],
    [
      'hand-off with the burst all queued (≥ half of it left): depth then / p50 / p90',
      (f) => `${f.burst.maxDepth} / ${ms(pct(f.burst.deepGaps, 50))} / ${ms(pct(f.burst.deepGaps, 90))}`,
    ],
    [
      'queue-depth effect, p50 deep / p50 with 1 waiting (target < 1.2×)',
      (f) => `${(pct(f.burst.deepGaps, 50) / pct(f.shallowGaps, 50)).toFixed(2)}×`,
    ],
    [
      // A queue deeper than the cache replays each execution as it is granted (README, PASO_MAX_CACHED_WORKFLOWS).
      `  sticky-cache misses while it drained (the worker caches ${CACHED_WORKFLOWS} workflows)`,
      (f) => (f.drainMisses === null ? 'n/a' : String(f.drainMisses)),
    ],
  ];
  const rows: [string, (f: Figures) => string][] = [
    ...(figures.every((f) => f.base)
      ? baseRows.map(([label, value]): [string, (f: Figures) => string] => [label, (f) => value(f.base!)])
      : []),
    ...depthRows,
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const bare = BARE_STACK_TRACES ? '' : '; baselines without stack traces';
  console.log(
    `\nPaso benchmark (${targets.map((t) => `${t.label}: ${t.gateways.length} gateway(s)`).join('; ')}${bare})\n`,
  );
  // Each target's column as wide as its widest figure (the step breakdowns are long).
  const cells = rows.map(([, value]) => figures.map((f) => value(f)));
  const columns = targets.map((t, i) => Math.max(t.label.length, ...cells.map((row) => row[i]!.length)) + 2);
  const line = (label: string, values: string[]) =>
    `${label.padEnd(width)}  ${values.map((v, i) => v.padEnd(columns[i]!)).join('')}`.trimEnd();
  console.log(
    line(
      '',
      targets.map((t) => t.label),
    ),
  );
  for (const [k, [label]] of rows.entries()) console.log(line(label, cells[k]!));
  for (const [i, f] of figures.entries()) {
    if (DEPTH_ONLY) {
      console.log(`\n${targets[i]!.label}, SDK metrics while the 30 pairs ran:\n  ${f.sdk.shallow.join('\n  ')}`);
      console.log(`${targets[i]!.label}, SDK metrics while the burst drained:\n  ${f.sdk.deep.join('\n  ')}`);
    }
    if (f.triggers.errors.length)
      console.log(`\n${targets[i]!.label} trigger errors (first 5): ${f.triggers.errors.slice(0, 5).join('; ')}`);
  }
}

/**
 * The worker's SDK metrics, as its process's gateway serves them (none on the cluster, where the gateways run
 * no worker): each `_sum`/`_count` of a histogram and each counter, by metric and labels.
 */
async function sdkMetrics(base: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  const text = await fetch(`${base}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  for (const line of text.split('\n')) {
    const m = /^(temporal_[a-z_]+?(?:_sum|_count|_miss|_hit|_total))(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (m) values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return values;
}

/**
 * The mean time the worker spent on a workflow task of `workflowType` between two scrapes (Core's
 * `workflow_task_execution_latency`: from the task's arrival to its completion sent; every task queue summed).
 */
function meanTaskMs(before: Map<string, number>, after: Map<string, number>, workflowType: string): number | null {
  let count = 0;
  let sum = 0;
  for (const key of after.keys()) {
    if (!key.startsWith('temporal_workflow_task_execution_latency_count{')) continue;
    if (!key.includes(`workflow_type="${workflowType}"`)) continue;
    count += metricDelta(before, after, key);
    sum += metricDelta(before, after, key.replace('_count{', '_sum{'));
  }
  return count > 0 ? sum / count : null;
}

/** How much a scraped metric grew between two scrapes. */
function metricDelta(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

/** Per workflow type, what changed between two scrapes: mean task and activation times, cache misses. */
function sdkDelta(before: Map<string, number>, after: Map<string, number>): string[] {
  const delta = (key: string) => metricDelta(before, after, key);
  const lines: string[] = [];
  for (const key of after.keys()) {
    if (!key.includes('_count') && !key.includes('_miss') && !key.includes('_hit')) continue;
    const n = delta(key);
    if (n <= 0 || !/workflow_type="(coordinator|execution)"|sticky/.test(key)) continue;
    const sum = key.includes('_count') ? delta(key.replace('_count', '_sum')) : NaN;
    const short = key.replace(/,?(namespace|task_queue|service_name)="[^"]*"/g, '').replace('{,', '{');
    lines.push(`${short}: ${n}${Number.isNaN(sum) ? '' : `, mean ${(sum / n).toFixed(1)}`}`);
  }
  return lines;
}

async function main() {
  const targets: Target[] = [];
  const figures: Figures[] = [];
  try {
    for (const start of process.argv.includes('--cluster') ? [devServerTarget, clusterTarget] : [devServerTarget]) {
      const target = await start();
      try {
        if (PARALLEL_ONLY) {
          await measureParallel(target);
          continue;
        }
        targets.push(target);
        figures.push(await measure(target));
      } finally {
        await target.stop();
      }
    }
  } finally {
    if (figures.length) report(targets.slice(0, figures.length), figures);
  }
}

runBench(main);
