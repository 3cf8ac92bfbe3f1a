/**
 * `npm run bench`: trigger-to-first-action latency through the real gateway. Starts its own Temporal dev
 * server (free ports, temporary files), a worker and a gateway in this process, then triggers a one-action
 * pipeline RUNS times, one after another, and measures from just before the POST to the moment the action's
 * command is running (it writes its own clock reading). Prints the figures; asserts nothing.
 */
import { mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { createClient, startGatewayRole, startWorkerRole } from '../src/roles.js';
import { resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const TOKEN = 'bench-admin-token';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'paso-bench-'));
  const server = await startDevServer({
    cli: await resolveTemporalCli(),
    dbFile: path.join(work, 'temporal.db'),
    logFile: path.join(work, 'temporal.log'),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
  });
  const configFile = path.join(work, 'paso.config.json');
  writeFileSync(configFile, JSON.stringify({ users: [{ name: 'bench', token: TOKEN, roles: ['admin'] }] }));
  const port = await freePort();
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    PASO_CONFIG: configFile,
    PASO_DATA_DIR: path.join(work, 'data'),
    PASO_PORT: String(port),
    PASO_TASK_QUEUE: 'bench',
  });
  const worker = await startWorkerRole(config, server.address);
  const client = createClient(config, server.address);
  const gateway = await startGatewayRole(config, client);
  const base = `http://127.0.0.1:${port}`;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  const marks = path.join(work, 'marks');
  const put = await fetch(`${base}/pipelines/bench`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      name: 'bench',
      executionMode: 'PARALLEL',
      stages: [
        { name: 'S', actions: [{ name: 'mark', type: 'command', run: `date +%s%3N > ${marks}-$PASO_EXECUTION_ID` }] },
      ],
    }),
  });
  if (!put.ok) throw new Error(`PUT pipeline: ${put.status} ${await put.text()}`);

  const latencies: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = Date.now();
    const res = await fetch(`${base}/pipelines/bench/executions`, { method: 'POST', headers, body: '{}' });
    const { executionId } = (await res.json()) as { executionId: string };
    const file = `${marks}-${executionId}`;
    while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') await new Promise((r) => setTimeout(r, 2));
    // The first run warms caches (workflow bundle load, connections) and is not counted.
    if (i > 0) latencies.push(Number(readFileSync(file, 'utf8').trim()) - t0);
    await new Promise((r) => setTimeout(r, 300)); // let the execution finish before the next one
  }

  latencies.sort((a, b) => a - b);
  console.log(`trigger-to-first-action latency over ${RUNS} executions (ms):`);
  console.log(
    `  median ${percentile(latencies, 50)}  p90 ${percentile(latencies, 90)}  min ${latencies[0]}  max ${latencies.at(-1)}`,
  );

  await gateway.stop();
  await client.connection.close();
  await worker.stop();
  await server.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
