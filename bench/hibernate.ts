/**
 * `npm run bench:hibernate`: hibernation, proven. 1,000 executions each wait for an approval. Reports the
 * worker's RSS before and after, and how many workflow tasks ran while they all waited; then restarts the
 * worker, approves all 1,000 through the API, and reports how long until all succeeded. Runs its own dev
 * server, and the worker and gateway as separate processes (`dist/src/worker.js`, `dist/src/gateway.js`),
 * so the worker's memory is its own. Prints the figures; asserts nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { benchServer, freePort, passed, runBench, sleep } from './support.js';

const N = Number(process.env.BENCH_WAITING ?? 1000);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 30);
const CONCURRENCY = 16;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs `fn` over `items`, at most CONCURRENCY at a time. */
async function pool<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** Every role process started, so that an early exit (an error) leaves none of them behind. */
const started: ChildProcess[] = [];
process.on('exit', () => started.forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

async function startRole(file: string, env: Record<string, string>, ready: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', file)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
    child.stdout.on('data', (c: Buffer) => c.toString().includes(ready) && resolve());
  });
  return child;
}

async function stopRole(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function main() {
  const { work, server } = await benchServer('hibernate');
  const configFile = path.join(work, 'paso.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      users: [
        { name: 'admin', token: 'bench-admin-token', roles: ['admin'] },
        { name: 'approver', token: 'bench-approver-token', roles: ['viewer'] },
      ],
    }),
  );
  const port = await freePort();
  const metricsPort = await freePort();
  const env = {
    TEMPORAL_ADDRESS: server.address,
    PASO_CONFIG: configFile,
    PASO_DATA_DIR: path.join(work, 'data'),
    PASO_PORT: String(port),
    PASO_TASK_QUEUE: 'hibernate',
    ...passed('PASO_MAX_CACHED_WORKFLOWS'),
  };
  const workerEnv = {
    ...env,
    PASO_METRICS_PORT: String(metricsPort),
    ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}),
  };
  /**
   * The worker's main-thread JS heap in use and its memory outside that heap (Node's own figures, from its
   * metrics). The workflows live in the SDK's workflow thread, whose heap Node's metrics do not count: most of
   * the RSS the waiting executions add is there (README, "Tests and figures").
   */
  const heapMb = async (): Promise<string> => {
    const text = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    return `main thread's heap used ${value('paso_process_nodejs_heap_size_used_bytes').toFixed(0)} MB, external ${value('paso_process_nodejs_external_memory_bytes').toFixed(0)} MB`;
  };
  let worker = await startRole('worker.js', workerEnv, 'worker: polling');
  const gateway = await startRole('gateway.js', env, 'gateway: listening');
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const base = `http://127.0.0.1:${port}`;
  const as = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });

  await fetch(`${base}/pipelines/hibernate`, {
    method: 'PUT',
    headers: as('bench-admin-token'),
    body: JSON.stringify({
      name: 'hibernate',
      executionMode: 'PARALLEL',
      stages: [
        {
          name: 'Release',
          actions: [{ name: 'go', type: 'approval', approvers: { users: ['approver'], groups: [] } }],
        },
      ],
    }),
  });
  await sleep(2_000);
  const rssBefore = rssMb(worker.pid!);
  const heapBefore = await heapMb();

  const t0 = Date.now();
  const ids = await pool(
    Array.from({ length: N }, (_, i) => i),
    async () => {
      const r = await fetch(`${base}/pipelines/hibernate/executions`, {
        method: 'POST',
        headers: as('bench-admin-token'),
        body: '{}',
      });
      if (r.status !== 201) throw new Error(`trigger: ${r.status} ${await r.text()}`);
      return ((await r.json()) as { executionId: string }).executionId;
    },
  );
  const triggerSeconds = (Date.now() - t0) / 1000;

  /** Workflow tasks completed so far, over all executions (from their histories). */
  const workflowTasks = async () => {
    const counts = await pool(ids, async (id) => {
      const history = await client.workflow.getHandle(id).fetchHistory();
      return history.events!.filter((e) => e.workflowTaskCompletedEventAttributes).length;
    });
    return counts.reduce((a, b) => a + b, 0);
  };
  // All are waiting once every one has completed its first workflow task and nothing is pending.
  let tasks = await workflowTasks();
  for (let settled = 0; settled < 2;) {
    await sleep(2_000);
    const now = await workflowTasks();
    settled = now === tasks ? settled + 1 : 0;
    tasks = now;
  }
  const rssWaiting = rssMb(worker.pid!);
  const heapWaiting = await heapMb();
  await sleep(IDLE_SECONDS * 1000);
  const tasksWhileWaiting = (await workflowTasks()) - tasks;
  const rssAfterIdle = rssMb(worker.pid!);
  const heapAfterIdle = await heapMb();

  await stopRole(worker);
  worker = await startRole('worker.js', workerEnv, 'worker: polling');
  const rssRestarted = rssMb(worker.pid!);

  const t1 = Date.now();
  await pool(ids, async (id) => {
    const r = await fetch(`${base}/executions/${id}/approvals`, {
      method: 'POST',
      headers: as('bench-approver-token'),
      body: JSON.stringify({ stage: 'Release', action: 'go', decision: 'approve' }),
    });
    if (r.status !== 200) throw new Error(`approve ${id}: ${r.status} ${await r.text()}`);
  });
  const approveSeconds = (Date.now() - t1) / 1000;
  const views = await pool(ids, (id) => client.workflow.getHandle(id).result() as Promise<{ status: string }>);
  const allSeconds = (Date.now() - t1) / 1000;
  const succeeded = views.filter((v) => v.status === 'Succeeded').length;

  console.log(`\nPaso hibernation benchmark: ${N} executions waiting for an approval (this machine)\n`);
  console.log(`  triggered in                      ${triggerSeconds.toFixed(1)} s`);
  console.log(`  worker RSS before                 ${rssBefore.toFixed(0)} MB  (${heapBefore})`);
  console.log(
    `  worker RSS with all waiting       ${rssWaiting.toFixed(0)} MB  (+${(rssWaiting - rssBefore).toFixed(0)} MB; target < +200 MB; ${heapWaiting})`,
  );
  console.log(`  worker RSS after ${IDLE_SECONDS} s idle         ${rssAfterIdle.toFixed(0)} MB  (${heapAfterIdle})`);
  console.log(`  workflow tasks while waiting      ${tasksWhileWaiting}  (over ${IDLE_SECONDS} s; target 0)`);
  console.log(`  worker restarted, RSS             ${rssRestarted.toFixed(0)} MB`);
  console.log(`  ${N} approvals sent in            ${approveSeconds.toFixed(1)} s (through the API)`);
  console.log(`  all succeeded after               ${allSeconds.toFixed(1)} s  (${succeeded}/${N} Succeeded)`);

  await stopRole(worker);
  await stopRole(gateway);
  await client.connection.close();
  await server.stop();
}

runBench(main);
