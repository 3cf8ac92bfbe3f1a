/**
 * Paso's production topology on one machine, as separate processes that share nothing but the network and
 * PostgreSQL: a full Temporal server on PostgreSQL, N workers each with its own data directory (as if on
 * their own hosts), and N gateways on their own ports, all with one `PASO_DATABASE_URL`. `npm run cluster`
 * and the cluster tests (`test/cluster/`) start it through here.
 */
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PasoProcess } from '../../test/support/paso-process.js';
import { createDatabase, databaseServer, type DatabaseServer } from '../../test/support/postgres.js';
import { freePort } from '../../test/support/ports.js';
import { resolveServerTools, resolveUiServer, startTemporalServer, type TemporalServer } from './temporal-server.js';

export interface ClusterOptions {
  /** Where config, data directories and logs go. */
  dir: string;
  /** Paso's config file contents (users, slack, talkback, notifications). */
  config: Record<string, unknown>;
  workers?: number;
  gateways?: number;
  /** Also build and start the Temporal Web UI. */
  ui?: boolean;
  /** A PostgreSQL server to create the cluster's databases on; otherwise a throwaway one. */
  databaseServerUrl?: string;
  /** Gateway ports (free ones by default). */
  gatewayPorts?: number[];
  taskQueue?: string;
  /** More environment for every Paso process. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface Cluster {
  temporal: TemporalServer;
  ui: string | null;
  databaseUrl: string;
  gateways: PasoProcess[];
  workers: PasoProcess[];
  configFile: string;
  /** Stops everything it started, gateways first, the database server last. */
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? ((line: string) => console.log(line));
  const taskQueue = options.taskQueue ?? 'paso';
  mkdirSync(options.dir, { recursive: true });
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const tools = await resolveServerTools(log);
    const uiServer = options.ui ? await resolveUiServer(log) : null;

    let db: DatabaseServer;
    if (options.databaseServerUrl) db = { url: options.databaseServerUrl, stop: () => Promise.resolve() };
    else db = await databaseServer();
    started.push(db);
    const prefix = `paso_cluster_${process.pid}_${Date.now()}`;
    const databaseUrl = await createDatabase(db.url, `${prefix}_paso`);

    const temporal = await startTemporalServer({
      tools,
      databaseServerUrl: db.url,
      databasePrefix: `${prefix}_temporal`,
      dir: path.join(options.dir, 'temporal'),
    });
    started.push(temporal);
    log(`Temporal server ${temporal.address} on PostgreSQL (log: ${temporal.logFile})`);

    let ui: string | null = null;
    if (uiServer) {
      const port = await freePort();
      const uiProcess = startUi(uiServer, path.join(options.dir, 'ui'), temporal.address, port);
      started.push({ stop: () => (uiProcess.kill('SIGTERM'), uiProcess) });
      ui = `http://127.0.0.1:${port}`;
    }

    const configFile = path.join(options.dir, 'paso.config.json');
    writeFileSync(configFile, JSON.stringify(options.config, null, 2));
    const common = {
      temporalAddress: temporal.address,
      configFile,
      taskQueue,
      // Both gateways sign the console's session cookies with one key, so a session works behind either.
      env: { PASO_DATABASE_URL: databaseUrl, PASO_SESSION_SECRET: randomBytes(32).toString('hex'), ...options.env },
    };
    const workers: PasoProcess[] = [];
    for (let i = 1; i <= (options.workers ?? 2); i++) {
      const home = path.join(options.dir, `worker-${i}`);
      const worker = await PasoProcess.startWorker({
        ...common,
        dataDir: path.join(home, 'data'),
        logFile: path.join(home, 'worker.log'),
      });
      started.push(worker);
      workers.push(worker);
      log(`worker ${i}: pid ${worker.pid}, data in ${home}`);
    }
    const gateways: PasoProcess[] = [];
    for (let i = 1; i <= (options.gateways ?? 2); i++) {
      const home = path.join(options.dir, `gateway-${i}`);
      const gateway = await PasoProcess.startGateway({
        ...common,
        dataDir: path.join(home, 'data'),
        logFile: path.join(home, 'gateway.log'),
        ...(options.gatewayPorts?.[i - 1] ? { port: options.gatewayPorts[i - 1] } : {}),
      });
      started.push(gateway);
      gateways.push(gateway);
      log(`gateway ${i}: ${gateway.url}`);
    }
    return { temporal, ui, databaseUrl, gateways, workers, configFile, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function startUi(binary: string, dir: string, temporalAddress: string, port: number): ResultPromise {
  mkdirSync(path.join(dir, 'config'), { recursive: true });
  writeFileSync(
    path.join(dir, 'config', 'paso.yaml'),
    JSON.stringify({ temporalGrpcAddress: temporalAddress, host: '127.0.0.1', port, enableUi: true }),
  );
  const logFile = path.join(dir, 'ui.log');
  return execa(binary, ['--root', dir, '--config', 'config', '--env', 'paso', 'start'], {
    stdin: 'ignore',
    stdout: { file: logFile, append: true },
    stderr: { file: logFile, append: true },
    reject: false,
    cleanup: true,
  });
}
