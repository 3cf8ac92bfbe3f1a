/**
 * Runs Paso as users do: `node dist/src/main.js` (worker + gateway) in a process of its own, against the
 * test server, so tests can kill and restart it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/temporal/cli.js';
import { freePort } from './ports.js';

// The project's root, whether this runs as `test/support/*.ts` (vitest) or `dist/test/support/*.js` (npm run cluster).
const ROOT = projectRoot();
export const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const GATEWAY = path.join(ROOT, 'dist', 'src', 'gateway.js');
const WORKER = path.join(ROOT, 'dist', 'src', 'worker.js');

export interface PasoProcessOptions {
  temporalAddress: string;
  dataDir: string;
  configFile: string;
  taskQueue: string;
  port?: number;
  logFile: string;
  /** More of Paso's environment (PASO_WORKSPACE_DIR, PASO_SHUTDOWN_GRACE_SECONDS, …). */
  env?: Record<string, string>;
}

export class PasoProcess {
  private child: ChildProcess | undefined;
  readonly url: string;

  private constructor(
    private readonly options: PasoProcessOptions & { port: number },
    private readonly entry: { file: string; ready: string },
  ) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  /** `node dist/src/main.js`: worker and gateway. */
  static async start(options: PasoProcessOptions): Promise<PasoProcess> {
    const p = new PasoProcess(
      { ...options, port: options.port ?? (await freePort()) },
      { file: MAIN, ready: 'Paso is ready' },
    );
    await p.start();
    return p;
  }

  /** `node dist/src/gateway.js`: the gateway alone. */
  static async startGateway(options: PasoProcessOptions): Promise<PasoProcess> {
    const p = new PasoProcess(
      { ...options, port: options.port ?? (await freePort()) },
      { file: GATEWAY, ready: 'gateway: listening' },
    );
    await p.start();
    return p;
  }

  /** `node dist/src/worker.js`: a worker alone. */
  static async startWorker(options: PasoProcessOptions): Promise<PasoProcess> {
    const p = new PasoProcess({ ...options, port: 0 }, { file: WORKER, ready: 'worker: polling' });
    await p.start();
    return p;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    mkdirSync(path.dirname(this.options.logFile), { recursive: true });
    const log = createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [this.entry.file], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: this.options.temporalAddress,
        PASO_DATA_DIR: this.options.dataDir,
        PASO_CONFIG: this.options.configFile,
        PASO_TASK_QUEUE: this.options.taskQueue,
        PASO_PORT: String(this.options.port),
        ...this.options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Paso did not start in 60s; see ${this.options.logFile}`)),
        60_000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Paso exited with ${code} during start-up; see ${this.options.logFile}`));
      });
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes(this.entry.ready)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** kill -9: the process dies at once, as on a lost host or out of memory. */
  async kill(): Promise<void> {
    await this.stop('SIGKILL');
  }

  /** Resolves when the process has exited, however it ended. */
  exited(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** SIGTERM and wait: the graceful stop a deployment does. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }
}
