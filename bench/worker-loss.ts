/**
 * `npm run bench:worker-loss`: what losing a worker costs, with worker processes as in production.
 *
 * - kill -9 of the worker running a command (another worker running), RUNS times: how long until the
 *   command's processes are gone, and until the action is Failed "worker lost".
 * - the worker cut off from Temporal (a TCP proxy stops forwarding), CUTS times, `onWorkerLoss: rerun`: how
 *   long until the command is killed by its own worker (fencing), and until the rerun starts elsewhere.
 * - what the supervisor adds to a command's start: 20 `true` commands through the process runner.
 *
 * The heartbeat timeout is PASO_HEARTBEAT_TIMEOUT_SECONDS (default here 60, Paso's default); the figures
 * scale with it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { runScript } from '../src/process-runner.js';
import { createClient, startGatewayRole } from '../src/roles.js';
import { projectRoot } from '../src/temporal/cli.js';
import { TcpProxy } from '../test/support/tcp-proxy.js';
import { benchServer, freePort, pct, runBench, sleep } from './support.js';

const RUNS = Number(process.env.RUNS ?? 10);
const CUTS = Number(process.env.CUTS ?? 3);
const HEARTBEAT = Number(process.env.PASO_HEARTBEAT_TIMEOUT_SECONDS ?? 60);
const TOKEN = 'bench-worker-loss-token';

async function main() {
  const { work, server } = await benchServer('worker-loss');
  const configFile = path.join(work, 'paso.config.json');
  writeFileSync(configFile, JSON.stringify({ users: [{ name: 'bench', token: TOKEN, roles: ['admin'] }] }));
  const port = await freePort();
  const env = {
    TEMPORAL_ADDRESS: server.address,
    PASO_CONFIG: configFile,
    PASO_DATA_DIR: path.join(work, 'data'),
    PASO_PORT: String(port),
    PASO_TASK_QUEUE: 'bench-loss',
    PASO_HEARTBEAT_TIMEOUT_SECONDS: String(HEARTBEAT),
  };
  const client = createClient(loadConfig(env), server.address);
  const gateway = await startGatewayRole(loadConfig(env), client);
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, url: string, body?: unknown): Promise<T> => {
    const r = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  type View = { status: string; stages: { actions: { worker: string | null; error: string | null }[] }[] };
  const view = (id: string) => call<View>('GET', `/executions/${id}`);
  const until = async (test: () => Promise<boolean> | boolean, timeoutMs = 5 * 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await test())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(50);
    }
    return Date.now();
  };

  let workers = 0;
  const startWorker = async (address = server.address): Promise<ChildProcess> => {
    const n = ++workers;
    const child = spawn(process.execPath, [path.join(projectRoot(), 'dist', 'src', 'worker.js')], {
      env: {
        PATH: process.env.PATH,
        ...env,
        TEMPORAL_ADDRESS: address,
        PASO_WORKSPACE_DIR: path.join(work, `host-${n}`),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('worker: polling') && resolve());
      child.once('exit', (code, signal) => {
        if (signal !== 'SIGKILL' || process.env.VERBOSE) console.error(`worker ${n} exited: ${code ?? signal}`);
        reject(new Error(`worker exited with ${code ?? signal}`));
      });
    });
    return child;
  };
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  };
  const marking = (marker: string) => `while true; do echo "$$ $(date +%s%3N)" >> ${marker}; sleep 0.2; done`;
  const lines = (marker: string) => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []);
  const alive = (marker: string) => {
    try {
      return execFileSync('pgrep', ['-f', marker], { encoding: 'utf8' }).trim() !== '';
    } catch {
      return false;
    }
  };

  // A worker registers Paso's search attributes, which the coordinators need: one runs before any PUT.
  const spare = await startWorker();
  /** A pipeline of one command that marks `marker` until killed; returns its execution's id. */
  const trigger = async (name: string, marker: string, onWorkerLoss: 'fail' | 'rerun') => {
    const run = marking(marker);
    await call('PUT', `/pipelines/${name}`, {
      name,
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run, onWorkerLoss }] }],
    });
    return (await call<{ executionId: string }>('POST', `/pipelines/${name}/executions`, {})).executionId;
  };

  // kill -9
  const gone: number[] = [];
  const failed: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await kill(spare);
    const victim = await startWorker();
    const marker = path.join(work, `kill-${i}.marker`);
    const executionId = await trigger(`loss-${i}`, marker, 'fail');
    await until(() => lines(marker).length > 0);
    const other = await startWorker();
    const killedAt = Date.now();
    await kill(victim);
    if (process.env.VERBOSE) console.log(`run ${i}: killed ${victim.pid}; other ${other.pid}`);
    gone.push((await until(() => !alive(marker))) - killedAt);
    failed.push((await until(async () => (await view(executionId)).status === 'Failed')) - killedAt);
    await kill(other);
  }

  // network cut
  const killed: number[] = [];
  const rerun: number[] = [];
  for (let i = 0; i < CUTS; i++) {
    const proxy = await TcpProxy.start(server.address);
    const cutOff = await startWorker(proxy.address);
    const marker = path.join(work, `cut-${i}.marker`);
    await trigger(`cut-${i}`, marker, 'rerun');
    await until(() => lines(marker).length > 0);
    const other = await startWorker();
    proxy.cut();
    const cutAt = Date.now();
    const first = lines(marker)[0]!.split(' ')[0];
    await until(() => lines(marker).some((l) => l.split(' ')[0] !== first));
    const pidLines = lines(marker).map((l) => l.split(' ').map(Number) as [number, number]);
    killed.push(Math.max(...pidLines.filter(([p]) => String(p) === first).map(([, t]) => t)) - cutAt);
    rerun.push(Math.min(...pidLines.filter(([p]) => String(p) !== first).map(([, t]) => t)) - cutAt);
    await Promise.all([kill(cutOff), kill(other)]);
    await proxy.close();
  }

  // the supervisor's cost per command: the native one (Go), then the Node one
  const perCommand: Record<string, number> = {};
  for (const kind of ['native', 'node']) {
    if (kind === 'node') process.env.PASO_SUPERVISOR = 'node';
    const t0 = Date.now();
    for (let i = 0; i < 20; i++) {
      await runScript({
        script: 'true',
        variables: {},
        env: {},
        cwd: path.join(work, 'plain'),
        logPath: path.join(work, 'plain.log'),
        label: 'bench',
        timeoutSeconds: 10,
        killGraceMs: 1000,
      });
    }
    perCommand[kind] = (Date.now() - t0) / 20;
  }
  delete process.env.PASO_SUPERVISOR;
  const t1 = Date.now();
  for (let i = 0; i < 20; i++) execFileSync('/bin/sh', ['-c', 'true']);
  const bare = (Date.now() - t1) / 20;

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  console.log(`heartbeat timeout ${HEARTBEAT} s (fence at ${HEARTBEAT * 0.75} s)`);
  console.log(
    `kill -9, ${RUNS} runs: command gone p50 ${s(pct(gone, 50))} max ${s(Math.max(...gone))}; ` +
      `action Failed "worker lost" p50 ${s(pct(failed, 50))} max ${s(Math.max(...failed))}`,
  );
  console.log(
    `network cut, ${CUTS} runs: command killed by its worker p50 ${s(pct(killed, 50))} max ${s(Math.max(...killed))}; ` +
      `rerun started elsewhere p50 ${s(pct(rerun, 50))} min ${s(Math.min(...rerun))}`,
  );
  console.log(
    `a command through the process runner: ${perCommand.native!.toFixed(0)} ms (native supervisor), ` +
      `${perCommand.node!.toFixed(0)} ms (Node supervisor); /bin/sh -c true alone: ${bare.toFixed(0)} ms`,
  );
  await gateway.stop();
  await client.connection.close();
  await server.stop();
}

runBench(main);
