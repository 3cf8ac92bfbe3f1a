/** What both benchmarks need: free ports, and a Temporal dev server of their own in a temporary directory. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { setLogLevel } from '../src/log.js';
import { createClient, startGatewayRole, startWorkerRole } from '../src/roles.js';
import { resolveTemporalCli } from '../src/temporal/cli.js';
import type { DevServer } from '../src/temporal/dev-server.js';
import { startDevServer } from '../src/temporal/dev-server.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export async function benchServer(name: string): Promise<{ work: string; server: DevServer }> {
  const work = mkdtempSync(path.join(os.tmpdir(), `paso-${name}-`));
  const server = await startDevServer({
    cli: await resolveTemporalCli(),
    dbFile: path.join(work, 'temporal.db'),
    logFile: path.join(work, 'temporal.log'),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
  });
  return { work, server };
}

/** The p-th percentile (nearest rank) of `values`. */
export function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Paso's worker and gateway in this process, on `server`, with the given config file contents; `base` is the
 * gateway's URL.
 */
export async function benchPaso(
  server: DevServer,
  work: string,
  taskQueue: string,
  configFile: object,
): Promise<{ base: string; stop: () => Promise<void> }> {
  const file = path.join(work, 'paso.config.json');
  writeFileSync(file, JSON.stringify(configFile));
  const port = await freePort();
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
    PASO_CONFIG: file,
    PASO_DATA_DIR: path.join(work, 'data'),
    PASO_PORT: String(port),
    PASO_TASK_QUEUE: taskQueue,
    // A log line per request and per command would be the benchmark's own load; BENCH_LOG_LEVEL=info shows them.
    PASO_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...passed('PASO_UPDATES_IN_FLIGHT', 'PASO_MAX_CACHED_WORKFLOWS'),
  });
  // The process's logger took its level from this process's environment when it loaded: give it the config's,
  // as `npm start` does (before this, every request and command was logged at info, synchronously).
  setLogLevel(config.logLevel);
  const worker = await startWorkerRole(config, server.address);
  const client = createClient(config, server.address);
  // As `npm start` does: the gateway starts executions eagerly on the worker beside it (BENCH_EAGER=0: not).
  const gateway = await startGatewayRole(config, client, process.env.BENCH_EAGER === '0' ? undefined : worker.starter);
  return {
    base: `http://127.0.0.1:${port}`,
    async stop() {
      await gateway.stop();
      await client.connection.close();
      await worker.stop();
    },
  };
}

/** The settings among `names` that this benchmark's own environment sets, for the Paso it starts. */
export function passed(...names: string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a benchmark's main and exits: 0 when it printed its figures, 1 (with the error) when it could not. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
