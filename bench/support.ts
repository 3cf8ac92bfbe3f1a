/** What both benchmarks need: free ports, and a Temporal dev server of their own in a temporary directory. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The CPU time, in ms, of this process and every process it started, split into Temporal's servers and the rest. */
export interface TreeCpu {
  /** Temporal's processes (`temporal server start-dev`, `temporal-server`). */
  server: number;
  /** Everything else: this process (with the Paso worker and gateway it may run), Paso's processes, commands. */
  rest: number;
}

/** Linux's clock ticks per second in `/proc/<pid>/stat` (USER_HZ: 100 on every Linux ABI Node runs on). */
const TICKS_PER_SECOND = 100;

/**
 * Reads `/proc` for this process and its descendants: user and system time, their own and that of the children
 * they have reaped (so a command's CPU is counted once its supervisor has reaped it). Take two readings and
 * subtract; Linux only.
 */
export function treeCpu(root = process.pid): TreeCpu {
  const stats = new Map<number, { ppid: number; ms: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid … utime stime cutime cstime …": comm may hold spaces and parentheses.
    const close = text.lastIndexOf(')');
    const comm = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    stats.set(Number(entry), { ppid: Number(fields[1]), ms: (ticks * 1000) / TICKS_PER_SECOND, comm });
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid; p > 1; p = stats.get(p)?.ppid ?? 0) if (p === root) return true;
    return false;
  };
  const cpu: TreeCpu = { server: 0, rest: 0 };
  for (const [pid, { ms, comm }] of stats) {
    if (!inTree(pid)) continue;
    if (comm.startsWith('temporal')) cpu.server += ms;
    else cpu.rest += ms;
  }
  return cpu;
}
