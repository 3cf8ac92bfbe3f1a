/**
 * `npm run cluster`: Paso's production topology on this machine (see scripts/cluster/topology.ts): a full
 * Temporal server and its Web UI on PostgreSQL, two workers with their own data directories, two gateways.
 * Prints the addresses; Ctrl-C stops everything and removes a throwaway database server.
 *
 * Environment: PASO_CLUSTER_DATABASE_URL (a PostgreSQL server to create the cluster's databases on; default:
 * a throwaway server from the machine's PostgreSQL binaries), PASO_CLUSTER_WORKERS, PASO_CLUSTER_GATEWAYS
 * (2 each), PASO_PORT (the first gateway's port, 8080; the others follow), PASO_CLUSTER_DIR.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEV_USERS } from '../src/config.js';
import { startCluster } from './cluster/topology.js';

const count = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`${name} must be a whole number from 1 to 16`);
  return n;
};

try {
  const gateways = count('PASO_CLUSTER_GATEWAYS', 2);
  const firstPort = Number(process.env.PASO_PORT ?? 8080);
  const dir = process.env.PASO_CLUSTER_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'paso-cluster-'));
  console.log(`paso cluster: files in ${dir}`);
  const cluster = await startCluster({
    dir,
    // The development users, in a config file: with TEMPORAL_ADDRESS set Paso wants one.
    config: { users: DEV_USERS },
    workers: count('PASO_CLUSTER_WORKERS', 2),
    gateways,
    gatewayPorts: Array.from({ length: gateways }, (_, i) => firstPort + i),
    ui: true,
    ...(process.env.PASO_CLUSTER_DATABASE_URL ? { databaseServerUrl: process.env.PASO_CLUSTER_DATABASE_URL } : {}),
    log: (line) => console.log(`paso cluster: ${line}`),
  });
  console.log(
    [
      '',
      'Paso is running as a cluster:',
      ...cluster.gateways.map((g, i) => `  gateway ${i + 1}        ${g.url}`),
      `  Temporal          ${cluster.temporal.address}  (full server on PostgreSQL)`,
      `  Temporal UI       ${cluster.ui}`,
      `  Paso's database   ${cluster.databaseUrl}`,
      `  workers           ${cluster.workers.map((w) => `pid ${w.pid}`).join(', ')}`,
      `  tokens            ${DEV_USERS.map((u) => `${u.name} (${u.roles.join(',')}): ${u.token}`).join('; ')}`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('paso cluster: stopping...');
    await cluster.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
} catch (err) {
  console.error(`paso cluster: ${(err as Error).message}`);
  process.exit(1);
}
