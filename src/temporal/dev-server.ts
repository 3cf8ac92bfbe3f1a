/**
 * Runs `temporal server start-dev` as a child process with its state in a SQLite file (WAL), and waits for
 * it with our own timeout: the SDK's launcher gives up after 5 s, too soon on a 2-core machine.
 */
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { LOW_LATENCY_DYNAMIC_CONFIG } from './latency.js';

export interface DevServerOptions {
  cli: string;
  dbFile: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Where the server's own output goes. */
  logFile: string;
  /** `--dynamic-config-value` pairs, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 200 }`. */
  dynamicConfig?: Record<string, unknown>;
  ip?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  mkdirSync(path.dirname(options.dbFile), { recursive: true });
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const args: string[] = [
    'server',
    'start-dev',
    '--db-filename',
    options.dbFile,
    '--sqlite-pragma',
    'journal_mode=wal',
    // With WAL, NORMAL syncs at checkpoints instead of at every commit (~4 ms each here, and every hop of an
    // execution commits several times): it survives a crash of the process; a power loss may lose the last
    // commits, never the database. The embedded server is for one machine; a cluster runs on PostgreSQL.
    '--sqlite-pragma',
    'synchronous=normal',
    '--ip',
    ip,
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...Object.entries({ ...LOW_LATENCY_DYNAMIC_CONFIG, ...options.dynamicConfig }).flatMap(([k, v]) => [
      '--dynamic-config-value',
      `${k}=${JSON.stringify(v)}`,
    ]),
  ];
  // Both streams open the log with O_APPEND, so their lines interleave without overwriting each other.
  const log = { file: options.logFile, append: true } as const;
  const child = execa(options.cli, args, {
    stdin: 'ignore',
    stdout: log,
    stderr: log,
    forceKillAfterDelay: 10_000,
    cleanup: true, // the server goes when this process goes, whatever the reason
    reject: false,
  });
  const address = `${ip}:${options.port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await child;
  };
  try {
    await waitForServer(address, options.namespace, options.startTimeoutMs ?? 60_000, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, uiUrl: `http://${ip}:${options.uiPort}`, stop };
}

async function waitForServer(address: string, namespace: string, timeoutMs: number, child: Promise<unknown>) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.then(() => (exited = true));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the Temporal dev server exited during start-up (see its log)`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server at ${address} was not ready after ${timeoutMs} ms: ${String(lastError)}`);
}
