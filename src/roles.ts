/**
 * The two roles a Paso process can play, worker and gateway, each started from the config and stopped
 * cleanly. `main.ts` runs both next to an embedded dev server; `worker.ts` and `gateway.ts` run one each.
 */
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import YAML from 'yaml';
import { createApp } from './api/app.js';
import { Paso } from './api/paso.js';
import type { PasoConfig } from './config.js';
import { checkDevUsers, ConfigError } from './config.js';
import { definitionSchemas } from './shared/definition.js';
import { toFieldErrors } from './shared/validation.js';
import { registerSearchAttributes } from './temporal/search-attributes.js';
import { createPasoWorker } from './temporal/worker.js';
import { sweepWorkspaces } from './workspace-sweeper.js';
import { openStore } from './store/open.js';
import { Secrets } from './secrets.js';
import { logger, neverLog, setLogLevel, startupLogger, temporalLogger } from './log.js';
import { DecisionTimingInterceptor } from './metrics/client-interceptor.js';
import { setSdkMetricsUrl, startMetricsServer } from './metrics/server.js';
import { startTracing, stopTracing, tracingClientInterceptors } from './tracing.js';

const workerLog = logger.child({ component: 'worker' });

export interface Running {
  stop(): Promise<void>;
}

/** A worker role, with a client on its own connection for a gateway in the same process to start executions. */
export interface RunningWorker extends Running {
  starter: Client;
}

/**
 * What every Paso process does first with its config: the log level; the values no log line may show (secret
 * values given in the file or a worker's environment, the Slack credentials; file secrets are added when a
 * worker reads them); tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
export function setUpProcess(config: PasoConfig): void {
  setLogLevel(config.logLevel);
  neverLog(config.secrets.flatMap((s) => [s.value, s.env ? process.env[s.env] : undefined]));
  neverLog([config.slack?.signingSecret, config.slack?.botToken]);
  if (startTracing()) logger.info({ endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }, 'tracing: on');
}

let runtimeInstalled = false;

/**
 * The Temporal SDK runtime of a worker process, once: its logs (and Core's, forwarded) through Paso's logger;
 * its Prometheus metrics on `PASO_SDK_METRICS_PORT` (or a free loopback port), copied into Paso's `/metrics`.
 */
async function installRuntime(config: PasoConfig): Promise<void> {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const host = config.sdkMetricsPort ? config.host : '127.0.0.1';
  const port = config.sdkMetricsPort ?? (await freeLoopbackPort());
  const bindAddress = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  Runtime.install({
    logger: temporalLogger(),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      metrics: { prometheus: { bindAddress } },
    },
  });
  setSdkMetricsUrl(`http://${bindAddress}/metrics`);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The secrets of the config file; a relative `file` is read from the config file's folder. */
function workerSecrets(config: PasoConfig): Secrets {
  return new Secrets(config.secrets, process.env, config.configFile ? path.dirname(config.configFile) : process.cwd());
}

export async function startWorkerRole(config: PasoConfig, address: string): Promise<RunningWorker> {
  await installRuntime(config);
  await ensureSearchAttributes(config, address);
  const connection = await NativeConnection.connect({ address });
  // The activities' own client (watcher, recovery, CHECK, scheduled triggers) recovers as fast as the gateway's.
  const client = new Client({
    connection: await Connection.connect({ address, channelArgs: RECONNECT_QUICKLY }),
    namespace: config.namespace,
    interceptors: { workflow: tracingClientInterceptors() },
  });
  const store = await openStore(config, (line) => logger.info({ component: 'store' }, line));
  const worker = await createPasoWorker({
    store,
    connection,
    client,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    dataDir: config.dataDir,
    workspaceDir: config.workspaceDir,
    shutdownGraceSeconds: config.shutdownGraceSeconds,
    maxCachedWorkflows: config.maxCachedWorkflows,
    workflowStackTraces: config.workflowStackTraces,
    logLimitBytes: config.logLimitBytes,
    pasoOptions: config,
    slack: config.slack,
    secrets: workerSecrets(config),
  });
  const running = worker.run();
  const sweeper = sweepWorkspaces({
    client,
    dir: config.workspaceDir,
    retentionMs: config.workspaceRetentionHours * 3_600_000,
    log: (line) => workerLog.info(`worker: ${line}`),
  });
  const metrics = config.metricsPort ? await startMetricsServer(config.host, config.metricsPort) : null;
  if (metrics) workerLog.info(`worker: metrics on http://${config.host}:${config.metricsPort}/metrics`);
  workerLog.info(
    { taskQueue: config.taskQueue, workflowStackTraces: config.workflowStackTraces },
    `worker: polling task queue "${config.taskQueue}" on ${address}`,
  );
  return {
    starter: new Client({
      connection,
      namespace: config.namespace,
      interceptors: { workflow: tracingClientInterceptors() },
    }),
    async stop() {
      metrics?.close();
      sweeper.stop();
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
      await store.close();
    },
  };
}

/** Workflows write Paso's search attributes from their first task, so they must exist before a worker polls. */
async function ensureSearchAttributes(config: PasoConfig, address: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const added = await registerSearchAttributes(connection, config.namespace);
    if (added.length > 0) logger.info(`registered search attributes: ${added.join(', ')}`);
  } finally {
    await connection.close();
  }
}

/**
 * gRPC's reconnect backoff (grpc-js: 1 s, x1.6 per failed attempt, up to 2 min) kept the gateway answering
 * 503 for 4-11 s after Temporal came back: while it backs off, every call fails at once without trying. A
 * gateway has people waiting, so it tries again every half second at most: one TCP connect each, while
 * Temporal is down. The worker's polling connection (Rust core) already recovers this fast.
 */
const RECONNECT_QUICKLY = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
};

/**
 * One Temporal client for the whole process. Lazy, so the gateway starts (and answers 503) while Temporal is
 * down; and quick to give up, so a caller gets its 503 in seconds rather than after the SDK's long backoff.
 */
export function createClient(config: PasoConfig, address: string): Client {
  const connection = Connection.lazy({
    address,
    connectTimeout: '3s',
    interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: 2 }))],
    channelArgs: RECONNECT_QUICKLY,
  });
  const decisions = new DecisionTimingInterceptor();
  const client = new Client({
    connection,
    namespace: config.namespace,
    interceptors: { workflow: [...tracingClientInterceptors(), decisions] },
  });
  decisions.workflows = client.workflow;
  return client;
}

/** `starter`: the client of a worker role in this process (see `PasoOptions.starter`), if there is one. */
export async function startGatewayRole(config: PasoConfig, client: Client, starter?: Client): Promise<Running> {
  checkDevUsers(config);
  const registering = registerInBackground(client, config.namespace);
  const freezing = syncFreezesInBackground(client, config);
  const store = await openStore(config, (line) => logger.info({ component: 'store' }, line));
  const app = createApp({ client, config, store, starter });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s)).once('error', reject);
  });
  const where = server.address();
  const port = where && typeof where === 'object' ? where.port : config.port;
  logger.info({ component: 'gateway', port }, `gateway: listening on http://${config.host}:${port}`);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        registering.stop();
        freezing.stop();
        void store.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A gateway may start before any worker ever ran against a new Temporal, and coordinators write Paso's search
 * attributes: it registers them too, in the background (Temporal may be down).
 */
function registerInBackground(client: Client, namespace: string): { stop(): void } {
  return untilDone(async () => {
    const added = await registerSearchAttributes(client.connection as Connection, namespace);
    if (added.length > 0) logger.info(`registered search attributes: ${added.join(', ')}`);
  });
}

/**
 * Gives every pipeline the config file's change freezes (and lifts those it no longer has), in the background
 * at start (Temporal may be down, or no worker up yet).
 */
function syncFreezesInBackground(client: Client, config: PasoConfig): { stop(): void } {
  const paso = new Paso(client, config.taskQueue, config);
  return untilDone(async () => {
    const changed = await paso.syncConfigFreezes();
    if (changed.length > 0)
      logger.info({ pipelines: changed }, `config-wide freezes given to ${changed.length} pipelines`);
  });
}

/** Runs `task` now, and again every 5 s while it fails, until it succeeds or `stop()` is called. */
function untilDone(task: () => Promise<void>): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const attempt = () => {
    task().catch(() => {
      if (!stopped) timer = setTimeout(attempt, 5_000).unref();
    });
  };
  attempt();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Registers every definition in `dir` (YAML or JSON); unchanged ones keep their version. */
export async function registerExamples(client: Client, config: PasoConfig, dir: string): Promise<string[]> {
  const paso = new Paso(client, config.taskQueue, config);
  const files = (await readdir(dir).catch(() => [])).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
  const registered: string[] = [];
  for (const file of files) {
    const parsed = definitionSchemas().pipelineDefinition.safeParse(
      YAML.parse(await readFile(path.join(dir, file), 'utf8')),
    );
    if (!parsed.success) {
      const problems = toFieldErrors(parsed.error).map((e) => `${e.path}: ${e.message}`);
      throw new ConfigError(`example ${file} is invalid: ${problems.join('; ')}`);
    }
    const result = await paso.putPipeline(parsed.data, 'paso');
    registered.push(`${result.name} v${result.version}`);
  }
  return registered;
}

/** Runs `stop` once on SIGINT or SIGTERM, then exits; a second signal exits at once. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, `${signal}: stopping`);
    stop()
      .then(() => stopTracing())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'stopping failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Entry points end here on a start-up error: one clear line, non-zero exit. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError) startupLogger.fatal(`paso: ${err.message}`);
  else startupLogger.fatal({ err }, `paso: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
