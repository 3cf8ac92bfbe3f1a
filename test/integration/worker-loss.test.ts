/**
 * Losing a worker never runs a command twice (issue 16). Worker and gateway run as separate processes, as in
 * production, on a task queue of this file's own; commands write their PID and a timestamp to a marker file
 * every 200 ms, so that two copies running side by side would show. The heartbeat timeout is 10 s here
 * (PASO_HEARTBEAT_TIMEOUT_SECONDS), so a worker fences itself off after 7.5 s without Temporal.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ActionView, ExecutionView } from '../../src/shared/execution-view.js';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const HEARTBEAT_TIMEOUT_SECONDS = 10;
const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-worker-loss-'));
const taskQueue = `paso-worker-loss-${process.pid}`;
const dataDir = path.join(workDir, 'data');
let gateway: PasoProcess;
let api: Api;
const workers = new Set<PasoProcess>();
const proxies: TcpProxy[] = [];
let workerCount = 0;

/** A worker process with a workspace directory of its own, as on a host of its own. */
async function startWorker(options: { via?: TcpProxy; graceSeconds?: number; env?: Record<string, string> } = {}) {
  const n = ++workerCount;
  const worker = await PasoProcess.startWorker({
    temporalAddress: options.via?.address ?? inject('temporalAddress'),
    dataDir,
    configFile: inject('configFile'),
    taskQueue,
    logFile: path.join(workDir, `worker-${n}.log`),
    env: {
      PASO_WORKSPACE_DIR: path.join(workDir, `host-${n}`, 'workspaces'),
      PASO_SHUTDOWN_GRACE_SECONDS: String(options.graceSeconds ?? 25),
      ...options.env,
    },
  });
  workers.add(worker);
  return worker;
}

async function stopAll(): Promise<void> {
  await Promise.all([...workers].map((w) => w.kill()));
  workers.clear();
}

beforeAll(async () => {
  gateway = await PasoProcess.startGateway({
    temporalAddress: inject('temporalAddress'),
    dataDir,
    configFile: inject('configFile'),
    taskQueue,
    logFile: path.join(workDir, 'gateway.log'),
    env: { PASO_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT_TIMEOUT_SECONDS) },
  });
  api = new Api(gateway.url);
});
afterAll(async () => {
  await stopAll();
  await Promise.all(proxies.map((p) => p.close()));
  await gateway?.stop();
});

/** A command that writes `<pid> <ms>` to `marker` every 200 ms, `$LOOPS` times (or until `stop` exists). */
const marking = (marker: string) =>
  `for i in $(seq 1 $LOOPS); do echo "$$ $(date +%s%3N)" >> ${marker}; [ -e ${marker}.stop ] && exit 0; sleep 0.2; done`;

interface Run {
  pid: number;
  first: number;
  last: number;
  lines: number;
}

/** Each process that wrote to the marker, in the order they started. */
function runsIn(marker: string): Run[] {
  if (!existsSync(marker)) return [];
  const runs = new Map<number, Run>();
  for (const line of readFileSync(marker, 'utf8').trim().split('\n')) {
    const [pid, ms] = line.split(' ').map(Number) as [number, number];
    const run = runs.get(pid) ?? { pid, first: ms, last: ms, lines: 0 };
    Object.assign(run, { last: ms, lines: run.lines + 1 });
    runs.set(pid, run);
  }
  return [...runs.values()].sort((a, b) => a.first - b.first);
}

/** No two runs of the marker overlap: each began after the one before had written its last line. */
function expectNoOverlap(runs: Run[]): void {
  for (let i = 1; i < runs.length; i++) expect(runs[i]!.first).toBeGreaterThan(runs[i - 1]!.last);
}

/** Processes whose command line names the marker: the command and whatever it started. */
function processesOf(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** A worker as executions name it: `<pid>@<host>`. */
const workerId = (worker: PasoProcess) => `${worker.pid}@${os.hostname()}`;

const action = (view: ExecutionView, stage: string, name: string): ActionView =>
  view.stages.find((s) => s.name === stage)!.actions.find((a) => a.name === name)!;

/** The worker process running (or that ran) an action, as the execution shows it: `<pid>@<host>`. */
async function workerOf(id: string, stage: string, name: string): Promise<PasoProcess> {
  let shown: string | null = null;
  await expect
    .poll(async () => (shown = action(await api.execution(id), stage, name).worker), { timeout: 20_000 })
    .toMatch(/^\d+@/);
  const pid = Number(shown!.split('@')[0]);
  const worker = [...workers].find((w) => w.pid === pid);
  if (!worker) throw new Error(`the execution shows worker ${shown}, not one of this test's`);
  return worker;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('kill -9 of the worker running a command', () => {
  beforeAll(() => stopAll());

  it('kills the command with it; the action fails "worker lost"; a retry runs on the worker left', async () => {
    // One worker first: it runs the command and has the execution's workflow in its cache.
    await startWorker();
    const name = uniqueName('kill9-fail');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      variables: { LOOPS: '600' },
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: marking(marker) }] }],
    });
    const id = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    const victim = await workerOf(id, 'Deploy', 'ship');
    const survivor = await startWorker();
    expect(processesOf(marker)).not.toEqual([]);
    await victim.kill();
    const killedAt = Date.now();
    workers.delete(victim);

    // No process of the command survives its worker.
    await expect.poll(() => processesOf(marker), { timeout: 3_000, interval: 100 }).toEqual([]);
    const orphanGone = Date.now() - killedAt;
    // The lost worker had the execution in its cache: reading it still answers.
    const readStart = Date.now();
    expect(action(await api.execution(id), 'Deploy', 'ship').status).toBe('InProgress');
    const firstRead = Date.now() - readStart;

    const failed = await api.waitFor(id, ['Failed'], 40_000);
    const ended = Date.now() - killedAt;
    const victimId = workerId(victim);
    expect(action(failed, 'Deploy', 'ship')).toMatchObject({
      status: 'Failed',
      attempt: 1,
      worker: victimId,
      error: `worker lost: no heartbeat from ${victimId} for ${HEARTBEAT_TIMEOUT_SECONDS}s`,
      workerLosses: [expect.objectContaining({ worker: victimId, rerun: false })],
    });
    expect(failed.retryableStage).toBe('Deploy');
    const timeline = await api.get<{ type: string; text?: string }[]>(`/executions/${id}/timeline`);
    expect(timeline.body.map((e) => e.type)).toContain('worker-lost');

    // A person retries the failed action: it runs on the worker that is left.
    writeFileSync(`${marker}.stop`, '');
    const retry = await api.post(`/executions/${id}/retry`, { stage: 'Deploy', mode: 'FAILED_ACTIONS' });
    expect(retry.status).toBe(202);
    const retried = await api.waitFor(id, ['Succeeded'], 30_000);
    expect(action(retried, 'Deploy', 'ship')).toMatchObject({
      status: 'Succeeded',
      attempt: 2,
      worker: workerId(survivor),
    });
    expectNoOverlap(runsIn(marker));
    console.log(
      `kill -9 → command gone ${seconds(orphanGone)}, first read of the execution ${seconds(firstRead)}, ` +
        `action Failed "worker lost" ${seconds(ended)} (heartbeat timeout ${HEARTBEAT_TIMEOUT_SECONDS} s)`,
    );
  });

  it('QUEUED: the execution waiting behind the lost one enters after the loss, never beside it', async () => {
    await stopAll();
    await startWorker();
    await startWorker();
    const name = uniqueName('kill9-queued');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      executionMode: 'QUEUED',
      variables: { LOOPS: '600' },
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: marking(marker) }] }],
    });
    const first = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    const second = await api.trigger(name, { variables: { LOOPS: '5' } });
    await expect.poll(async () => (await api.execution(second)).waiting?.for).toBe('STAGE_LOCK');
    const victim = await workerOf(first, 'Deploy', 'ship');
    await victim.kill();
    workers.delete(victim);

    expect((await api.waitFor(first, ['Failed'], 40_000)).status).toBe('Failed');
    expect((await api.waitFor(second, ['Succeeded', 'Failed'], 30_000)).status).toBe('Succeeded');
    const runs = runsIn(marker);
    expect(runs.map((r) => r.lines).at(-1)).toBe(5);
    expectNoOverlap(runs);
  });

  it('with onWorkerLoss: rerun, runs the command again exactly once, never beside the old one', async () => {
    await stopAll();
    await startWorker();
    await startWorker();
    const name = uniqueName('kill9-rerun');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      variables: { LOOPS: '25' },
      stages: [
        {
          name: 'Deploy',
          actions: [{ name: 'ship', type: 'command', run: marking(marker), onWorkerLoss: 'rerun' }],
        },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    const victim = await workerOf(id, 'Deploy', 'ship');
    await victim.kill();
    const killedAt = Date.now();
    workers.delete(victim);

    const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
    expect(view.status).toBe('Succeeded');
    const runs = runsIn(marker);
    expect(runs).toHaveLength(2);
    expectNoOverlap(runs);
    expect(runs[1]!.lines).toBe(25); // the rerun ran to its end
    expect(action(view, 'Deploy', 'ship')).toMatchObject({
      attempt: 2,
      workerLosses: [expect.objectContaining({ rerun: true })],
    });
    console.log(`kill -9 → rerun started ${seconds(runs[1]!.first - killedAt)} later on another worker`);
  });
});

describe('a worker cut off from Temporal', () => {
  it('kills its command before another worker may start it, and recovers by itself when the network is back', async () => {
    await stopAll();
    const proxy = await TcpProxy.start(inject('temporalAddress'));
    proxies.push(proxy);
    const cutOff = await startWorker({ via: proxy });
    const name = uniqueName('cut');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      variables: { LOOPS: '40' },
      stages: [
        {
          name: 'Deploy',
          actions: [{ name: 'ship', type: 'command', run: marking(marker), onWorkerLoss: 'rerun' }],
        },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    const other = await startWorker();

    proxy.cut();
    const cutAt = Date.now();
    const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
    expect(view.status).toBe('Succeeded');
    const runs = runsIn(marker);
    expect(runs).toHaveLength(2);
    expectNoOverlap(runs);
    expect(action(view, 'Deploy', 'ship').worker).toBe(workerId(other));
    console.log(
      `network cut → command killed ${seconds(runs[0]!.last - cutAt)}, rerun started ` +
        `${seconds(runs[1]!.first - cutAt)} on another worker (heartbeat timeout ${HEARTBEAT_TIMEOUT_SECONDS} s)`,
    );

    // Back on the network, the cut-off worker takes work again: with the other one gone, it runs the next.
    proxy.restore();
    await other.kill();
    workers.delete(other);
    const next = await api.trigger(name, { variables: { LOOPS: '2' } });
    const done = await api.waitFor(next, ['Succeeded', 'Failed'], 60_000);
    expect(done.status).toBe('Succeeded');
    expect(action(done, 'Deploy', 'ship').worker).toBe(workerId(cutOff));
  });

  it('rides out a cut shorter than the fence: the command goes on untouched', async () => {
    await stopAll();
    const proxy = await TcpProxy.start(inject('temporalAddress'));
    proxies.push(proxy);
    await startWorker({ via: proxy });
    await startWorker();
    const name = uniqueName('short-cut');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      variables: { LOOPS: '60' },
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: marking(marker) }] }],
    });
    // Two executions at once: at least one lands on the worker behind the proxy.
    const ids = [await api.trigger(name), await api.trigger(name)];
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(2);
    proxy.cut();
    await new Promise((r) => setTimeout(r, 4_000));
    proxy.restore();
    for (const id of ids) {
      const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
      expect(action(view, 'Deploy', 'ship')).toMatchObject({ status: 'Succeeded', attempt: 1, workerLosses: [] });
    }
    expect(runsIn(marker).map((r) => r.lines)).toEqual([60, 60]);
  });
});

describe('SIGTERM: a worker drains', () => {
  it('lets a running command finish within the grace period, and the execution goes on', async () => {
    await stopAll();
    const draining = await startWorker({ graceSeconds: 8 });
    const name = uniqueName('drain');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      // Runs until the test tells it to stop (at most 60 s), so it is surely running when SIGTERM comes.
      variables: { LOOPS: '300' },
      stages: [
        // It leaves a file in its workspace, which binds the execution to this worker.
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: `touch built; ${marking(marker)}` }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'echo shipped > shipped' }] },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    const successor = await startWorker();
    const sigtermAt = Date.now();
    const exited = draining.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    writeFileSync(`${marker}.stop`, ''); // the command ends by itself, well within the 8 s grace
    const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
    expect(view.status).toBe('Succeeded');
    const runs = runsIn(marker);
    expect(runs).toHaveLength(1); // it ran once, to its end, on the draining worker
    expect(runs[0]!.last).toBeGreaterThan(sigtermAt + 1_000);
    expect(await exited).toBe(0);
    workers.delete(draining);
    // Build ran on the drained worker; Deploy could not reach its workspace, and ran in a fresh one (its file
    // makes the fresh one the execution's).
    expect(view.workspaces.map((w) => w.worker)).toEqual([workerId(draining), workerId(successor)]);
    expect(view.workspaces[1]!.note).toMatch(/no worker took it/);
  });

  it('kills a command longer than the grace period and reports the lost worker at once', async () => {
    await stopAll();
    const draining = await startWorker({ graceSeconds: 2 });
    const name = uniqueName('drain-kill');
    const marker = path.join(workDir, `${name}.marker`);
    await api.pipeline({
      name,
      variables: { LOOPS: '600' },
      stages: [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: marking(marker) }] }],
    });
    const id = await api.trigger(name);
    await expect.poll(() => runsIn(marker).length, { timeout: 20_000 }).toBe(1);
    await startWorker();
    const stoppedAt = Date.now();
    await draining.stop('SIGTERM');
    workers.delete(draining);
    const view = await api.waitFor(id, ['Failed'], 30_000);
    expect(action(view, 'Deploy', 'ship').error).toMatch(/^worker lost: \d+@\S+ shut down before the command ended/);
    expect(processesOf(marker)).toEqual([]);
    console.log(`SIGTERM past a 2 s grace → action Failed "worker lost" ${seconds(Date.now() - stoppedAt)}`);
  });
});

describe('workspace affinity', () => {
  it('runs every command of an execution in one workspace, with three workers, twenty times in a row', async () => {
    await stopAll();
    await Promise.all([startWorker(), startWorker(), startWorker()]);
    const name = uniqueName('affinity');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'echo "$PASO_EXECUTION_ID" > artifact' }] },
        { name: 'Test', actions: [{ name: 'check', type: 'command', run: 'test -s artifact' }] },
        {
          name: 'Deploy',
          actions: [{ name: 'ship', type: 'command', run: 'test "$(cat artifact)" = "$PASO_EXECUTION_ID"' }],
        },
      ],
    });
    const ids = await Promise.all(Array.from({ length: 20 }, () => api.trigger(name)));
    const views = await Promise.all(ids.map((id) => api.waitFor(id, ['Succeeded', 'Failed'], 60_000)));
    expect(views.map((v) => v.status)).toEqual(Array(20).fill('Succeeded'));
    for (const view of views) {
      expect(view.workspaces).toHaveLength(1);
      const ran = view.stages.map((s) => s.actions[0]!.worker);
      expect(new Set(ran).size).toBe(1);
    }
    // The work was spread: more than one worker made workspaces.
    expect(new Set(views.map((v) => v.workspaces[0]!.worker)).size).toBeGreaterThan(1);
  });

  it('binds an execution to no worker while its commands leave their workspace empty', async () => {
    await stopAll();
    const first = await startWorker();
    const name = uniqueName('empty-workspace');
    await api.pipeline({
      name,
      stages: [
        { name: 'Check', actions: [{ name: 'ping', type: 'command', run: 'echo reachable' }] },
        { name: 'Hold', actions: [{ name: 'hold', type: 'approval', approvers: { users: ['alice'] } }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'echo "$PASO_EXECUTION_ID" > shipped' }] },
        { name: 'Verify', actions: [{ name: 'verify', type: 'command', run: 'test -s shipped' }] },
      ],
    });
    const id = await api.trigger(name);
    await expect
      .poll(async () => action(await api.execution(id), 'Hold', 'hold').waitingFor, { timeout: 20_000 })
      .toBe('approval');
    const waiting = await api.execution(id);
    expect(action(waiting, 'Check', 'ping')).toMatchObject({ status: 'Succeeded', worker: workerId(first) });
    expect(waiting.workspaces).toEqual([]); // nothing was left there: no worker holds anything of it
    // The worker that ran Check dies; what it held was empty, so Deploy need not look for it there.
    await first.kill();
    workers.delete(first);
    const second = await startWorker();
    const approved = await api.post(`/executions/${id}/approvals`, {
      stage: 'Hold',
      action: 'hold',
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
    expect(view.status).toBe('Succeeded');
    expect(action(view, 'Deploy', 'ship').worker).toBe(workerId(second));
    // Deploy's file binds the execution to the second worker, in a workspace made fresh for nothing lost.
    expect(view.workspaces).toEqual([
      { worker: workerId(second), taskQueue: expect.any(String), since: expect.any(String), note: null },
    ]);
    expect(action(view, 'Verify', 'verify').worker).toBe(workerId(second));
  });

  it('deletes a workspace once its execution has ended longer ago than the retention', async () => {
    await stopAll();
    const worker = await startWorker({ env: { PASO_WORKSPACE_RETENTION_HOURS: '0.0005' } }); // 1.8 s
    const workspaces = path.join(workDir, `host-${workerCount}`, 'workspaces');
    const name = uniqueName('retention');
    await api.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'echo built > artifact' }] },
        { name: 'Hold', actions: [{ name: 'hold', type: 'approval', approvers: { users: ['alice'] } }] },
      ],
    });
    const id = await api.trigger(name);
    await api.waitFor(id, ['InProgress']);
    await expect
      .poll(async () => action(await api.execution(id), 'Hold', 'hold').waitingFor, { timeout: 20_000 })
      .toBe('approval');
    // A running execution keeps its workspace, however old.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(existsSync(path.join(workspaces, id, 'artifact'))).toBe(true);
    mkdirSync(path.join(workspaces, 'not-an-execution'), { recursive: true });

    const approved = await api.post(`/executions/${id}/approvals`, {
      stage: 'Hold',
      action: 'hold',
      decision: 'approve',
    });
    expect(approved.status).toBe(200);
    await api.waitFor(id, ['Succeeded']);
    await expect.poll(() => existsSync(path.join(workspaces, id)), { timeout: 20_000 }).toBe(false);
    expect(existsSync(path.join(workspaces, 'not-an-execution'))).toBe(true);
    // The worker's output reaches its log file through a pipe: a moment after the deletion.
    await expect
      .poll(() => readFileSync(path.join(workDir, `worker-${workerCount}.log`), 'utf8'), { timeout: 5_000 })
      .toContain('workspaces deleted');
    void worker;
  });
});
