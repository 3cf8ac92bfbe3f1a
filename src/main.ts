/**
 * `npm start`: the embedded default. Starts a Temporal dev server (unless TEMPORAL_ADDRESS is set), then a
 * worker and the gateway in this process, and registers the example pipelines. Ctrl-C stops it all.
 */
import path from 'node:path';
import { checkDevUsers, loadConfig } from './config.js';
import { temporalDbPath } from './data-dir.js';
import { logger } from './log.js';
import {
  createClient,
  fail,
  registerExamples,
  setUpProcess,
  startGatewayRole,
  startWorkerRole,
  stopOnSignal,
} from './roles.js';
import { projectRoot, resolveTemporalCli } from './temporal/cli.js';
import type { DevServer } from './temporal/dev-server.js';
import { startDevServer } from './temporal/dev-server.js';

const stack: (() => Promise<void>)[] = [];
const stopAll = async () => {
  for (const stop of stack.reverse()) await stop().catch((err: unknown) => logger.error({ err }, 'stopping failed'));
};
stopOnSignal(stopAll);

try {
  const config = loadConfig();
  setUpProcess(config);
  checkDevUsers(config); // before anything starts: a refused start leaves nothing running
  let address = config.temporalAddress;
  let server: DevServer | undefined;
  if (!address) {
    const cli = await resolveTemporalCli({ log: (line) => logger.info({ component: 'temporal-cli' }, line) });
    server = await startDevServer({
      cli,
      dbFile: temporalDbPath(config.dataDir),
      logFile: path.join(config.dataDir, 'temporal.log'),
      port: config.temporalPort,
      uiPort: config.temporalUiPort,
      namespace: config.namespace,
    });
    stack.push(() => server!.stop());
    address = server.address;
  }

  const worker = await startWorkerRole(config, address);
  stack.push(() => worker.stop());
  const client = createClient(config, address);
  stack.push(() => client.connection.close());
  // The gateway starts executions on this process's worker's connection: eager start (see PasoOptions.starter).
  const gateway = await startGatewayRole(config, client, worker.starter);
  stack.push(() => gateway.stop());

  const examples = await registerExamples(client, config, path.join(projectRoot(), 'examples'));
  logger.info(`pipelines registered: ${examples.join(', ') || 'none'}`);
  logger.info(`console: ${config.publicUrl}/ui  (sign in with a user's token)`);
  if (server) logger.info(`Temporal UI: ${server.uiUrl}  (frontend ${server.address})`);
  if (config.devUsers) {
    // Public tokens of the embedded default (README), printed so a newcomer can use them at once.
    logger.info('development users (no config file):');
    for (const u of config.devUsers)
      logger.info(`  ${u.name.padEnd(6)} ${u.roles.join(',').padEnd(9)} token ${u.token}`);
  }
  // Worker and gateway share this process: the gateway's GET /metrics has both (PASO_METRICS_PORT adds a port).
  logger.info(`Paso is ready: http://${config.host}:${config.port}`);
} catch (err) {
  await stopAll();
  fail(err);
}
