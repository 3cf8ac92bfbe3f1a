/**
 * A full Temporal server (not the dev server) on PostgreSQL, as a cluster runs it: the server and its SQL
 * schema tool built from source at the version the pinned CLI embeds, the schemas created in fresh databases
 * by that tool, one process with all four services (frontend, history, matching, worker) on free loopback
 * ports, and the `default` namespace created through the operator API.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { findGo, goInstall, isExecutable, projectRoot } from '../../src/temporal/cli.js';
import { LOW_LATENCY_DYNAMIC_CONFIG } from '../../src/temporal/latency.js';
import { freePort } from '../../test/support/ports.js';

/** The server version the pinned Temporal CLI (src/temporal/cli.ts) embeds; its SQL schemas match it. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
/** The UI server version the same CLI embeds. */
export const TEMPORAL_UI_VERSION = '2.42.1';

export interface ServerTools {
  server: string;
  sqlTool: string;
}

type Log = (line: string) => void;

/** `$TEMPORAL_SERVER` / `$TEMPORAL_SQL_TOOL`, the project's own builds in `.tools/bin`, or builds them once. */
export async function resolveServerTools(log: Log, env = process.env): Promise<ServerTools> {
  const binDir = path.join(projectRoot(), '.tools', 'bin');
  const tool = async (envName: string, name: string, pkg: string, builds: string, what: string) => {
    const given = env[envName];
    if (given) {
      if (!isExecutable(given)) throw new Error(`${envName}=${given} is not an executable file`);
      return given;
    }
    const own = path.join(binDir, name);
    if (isExecutable(own)) return own;
    const go = findGo(env);
    if (!go) throw new Error(`${what} is not built and Go is not installed to build it (https://go.dev/dl/)`);
    return goInstall(go, { pkg, builds, as: name, binDir, env, log, what });
  };
  const server = await tool(
    'TEMPORAL_SERVER',
    'temporal-server',
    `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
    'server',
    `the Temporal server v${TEMPORAL_SERVER_VERSION}`,
  );
  const sqlTool = await tool(
    'TEMPORAL_SQL_TOOL',
    'temporal-sql-tool',
    `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    'sql',
    `the Temporal SQL schema tool v${TEMPORAL_SERVER_VERSION}`,
  );
  return { server, sqlTool };
}

/** `$TEMPORAL_UI_SERVER`, `.tools/bin/temporal-ui-server`, or a build of the UI server (its assets are embedded). */
export async function resolveUiServer(log: Log, env = process.env): Promise<string> {
  const given = env.TEMPORAL_UI_SERVER;
  if (given) return given;
  const binDir = path.join(projectRoot(), '.tools', 'bin');
  const own = path.join(binDir, 'temporal-ui-server');
  if (isExecutable(own)) return own;
  const go = findGo(env);
  if (!go) throw new Error('the Temporal UI server is not built and Go is not installed to build it');
  return goInstall(go, {
    pkg: `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`,
    builds: 'server',
    as: 'temporal-ui-server',
    binDir,
    env,
    log,
    what: `the Temporal UI server v${TEMPORAL_UI_VERSION}`,
  });
}

export interface TemporalServerOptions {
  tools: ServerTools;
  /** A PostgreSQL server the setup may create databases on (`postgres://user[:password]@host:port/db`). */
  databaseServerUrl: string;
  /** Prefix of the two databases it creates: `<prefix>` and `<prefix>_visibility`. */
  databasePrefix: string;
  /** Where its config and log go. */
  dir: string;
  namespace?: string;
  /** The frontend's gRPC port; free by default. */
  port?: number;
  /** Extra dynamic config values. */
  dynamicConfig?: Record<string, unknown>;
}

export interface TemporalServer {
  address: string;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** kill -9, as a crashed host. */
  kill(): Promise<void>;
  /** Starts the process again on the same ports and databases, and waits until it answers. */
  restart(): Promise<void>;
  logFile: string;
}

/** Creates the databases and schemas (once), then starts the server and waits for its namespace. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const namespace = options.namespace ?? 'default';
  const db = new URL(options.databaseServerUrl);
  const conn = {
    host: db.hostname,
    port: Number(db.port || 5432),
    user: decodeURIComponent(db.username || 'postgres'),
    password: decodeURIComponent(db.password),
  };
  const databases = { main: options.databasePrefix, visibility: `${options.databasePrefix}_visibility` };
  await setUpDatabases(options.tools.sqlTool, conn, databases);

  mkdirSync(path.join(options.dir, 'config'), { recursive: true });
  const ports = {
    frontend: options.port ?? (await freePort()),
    frontendHttp: await freePort(),
    history: await freePort(),
    matching: await freePort(),
    worker: await freePort(),
    // Temporal stores membership ports as a SQL smallint: they must be below 32768, where the system's
    // ephemeral ports (which `freePort` gets) are not.
    membership: [await lowFreePort(), await lowFreePort(), await lowFreePort(), await lowFreePort()],
    pprof: await freePort(),
  };
  const dynamicConfigFile = path.join(options.dir, 'config', 'dynamic.yaml');
  writeFileSync(
    dynamicConfigFile,
    Object.entries({
      // Search attributes Paso registers at start are usable at once (the CLI's dev server does the same);
      // with the cache disabled, persistence rate limits go up as the CLI raises them.
      'system.forceSearchAttributesCacheRefreshOnRead': true,
      'frontend.persistenceMaxQPS': 10000,
      'history.persistenceMaxQPS': 45000,
      'frontend.namespaceRPS.visibility': 100,
      ...LOW_LATENCY_DYNAMIC_CONFIG,
      ...options.dynamicConfig,
    })
      .map(([key, value]) => `${key}:\n  - value: ${JSON.stringify(value)}\n`)
      .join(''),
  );
  const datastore = (database: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: database,
      connectAddr: `${conn.host}:${conn.port}`,
      connectProtocol: 'tcp',
      user: conn.user,
      password: conn.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnIP: '127.0.0.1', ...(httpPort ? { httpPort } : {}) },
  });
  const config = {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'default',
      visibilityStore: 'visibility',
      numHistoryShards: 4,
      datastores: { default: datastore(databases.main, 10), visibility: datastore(databases.visibility, 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      pprof: { port: ports.pprof, host: '127.0.0.1' },
    },
    services: {
      frontend: service(ports.frontend, ports.membership[0]!, ports.frontendHttp),
      history: service(ports.history, ports.membership[1]!),
      matching: service(ports.matching, ports.membership[2]!),
      worker: service(ports.worker, ports.membership[3]!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
  // JSON is YAML: the server reads `<root>/config/<env>.yaml`.
  writeFileSync(path.join(options.dir, 'config', 'paso.yaml'), JSON.stringify(config, null, 2));

  const address = `127.0.0.1:${ports.frontend}`;
  const logFile = path.join(options.dir, 'temporal-server.log');
  let child: ResultPromise | undefined;
  const launch = async () => {
    child = execa(
      options.tools.server,
      ['--root', options.dir, '--config', 'config', '--env', 'paso', '--allow-no-auth', 'start'],
      {
        stdin: 'ignore',
        stdout: { file: logFile, append: true },
        stderr: { file: logFile, append: true },
        reject: false,
        cleanup: true,
        forceKillAfterDelay: 10_000,
      },
    );
    await waitForNamespace(address, namespace, child, logFile);
  };
  const stopped = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) return;
    child.kill(signal);
    await child;
  };
  await launch();
  return {
    address,
    logFile,
    stop: () => stopped('SIGTERM'),
    kill: () => stopped('SIGKILL'),
    restart: launch,
  };
}

/** Creates both databases with the SQL tool and brings their schemas to the version embedded in it. */
async function setUpDatabases(
  sqlTool: string,
  conn: { host: string; port: number; user: string; password: string },
  databases: { main: string; visibility: string },
): Promise<void> {
  const base = ['--plugin', 'postgres12', '--endpoint', conn.host, '--port', String(conn.port), '--user', conn.user];
  if (conn.password) base.push('--password', conn.password);
  const run = (database: string, args: string[]) =>
    execa(sqlTool, [...base, '--database', database, ...args], { stdin: 'ignore' });
  for (const [database, schema] of [
    [databases.main, 'postgresql/v12/temporal'],
    [databases.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    if (!(await databaseExists(conn, database))) {
      await run(database, ['create-database', '--defaultdb', 'postgres']);
      await run(database, ['setup-schema', '--version', '0.0']);
    }
    await run(database, ['update-schema', '--schema-name', schema]);
  }
}

async function databaseExists(
  conn: { host: string; port: number; user: string; password: string },
  database: string,
): Promise<boolean> {
  const client = new pg.Client({ ...conn, database: 'postgres' });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
  } finally {
    await client.end();
  }
}

/** Waits until the frontend answers, creates the namespace if it has none, and waits until it can be used. */
async function waitForNamespace(address: string, namespace: string, child: ResultPromise, logFile: string) {
  const deadline = Date.now() + 120_000;
  let exited = false;
  void child.then(() => (exited = true));
  let connection: Connection | undefined;
  try {
    while (!connection) {
      if (exited) throw new Error(`the Temporal server exited during start-up; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`the Temporal server did not answer in 120 s; see ${logFile}`);
      connection = await Connection.connect({ address, connectTimeout: 1_000 }).catch(() => undefined);
      if (!connection) await sleep(300);
    }
    for (;;) {
      if (exited) throw new Error(`the Temporal server exited during start-up; see ${logFile}`);
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} was not usable in 120 s; see ${logFile}`);
      try {
        await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
        return;
      } catch (err) {
        if (/not found/i.test((err as Error).message)) {
          await connection.workflowService
            .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
            .catch(() => undefined); // already registered, and the registry has not caught up yet
        }
        await sleep(500);
      }
    }
  } finally {
    await connection?.close();
  }
}

/** A TCP port free on 127.0.0.1 now, from 20000–32767. */
async function lowFreePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
