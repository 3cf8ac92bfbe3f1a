/**
 * The cluster suite's one topology (scripts/cluster/topology.ts): a full Temporal server on PostgreSQL, two
 * workers with their own data directories, two gateways sharing PASO_DATABASE_URL. Tests reach it only as a
 * user does: over HTTP, plus the Temporal server's process, which they kill and start again.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startCluster, type Cluster } from '../../scripts/cluster/topology.js';
import { MAIN } from '../support/paso-process.js';
import { TEST_USERS } from '../support/users.js';

declare module 'vitest' {
  export interface ProvidedContext {
    gatewayUrls: string[];
    clusterDir: string;
    controlUrl: string;
  }
}

let cluster: Cluster | undefined;
let control: http.Server | undefined;

export async function setup(project: TestProject) {
  if (!existsSync(MAIN)) throw new Error('dist/ is missing: run `npm run build` first (`npm test` does it).');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-cluster-test-'));
  const started = Date.now();
  cluster = await startCluster({
    dir,
    config: { users: TEST_USERS },
    // A deployment past its upgrade to 0.6: GET /waiting reads only the executions PasoWaiting says wait.
    env: { PASO_WAITING_SCAN: '0' },
    log: (line) => console.log(line),
  });
  console.log(`cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s, files in ${dir}`);
  project.provide(
    'gatewayUrls',
    cluster.gateways.map((g) => g.url),
  );
  project.provide('clusterDir', dir);
  project.provide('controlUrl', await startControl(cluster));
}

export async function teardown() {
  control?.close();
  await cluster?.stop();
}

/**
 * Tests run in vitest's worker processes while the Temporal server is a child of this one, so they ask for
 * `POST /temporal/kill` (kill -9) and `POST /temporal/restart` here, on loopback.
 */
async function startControl(c: Cluster): Promise<string> {
  control = http.createServer((req, res) => {
    const act = { '/temporal/kill': () => c.temporal.kill(), '/temporal/restart': () => c.temporal.restart() }[
      req.url ?? ''
    ];
    if (req.method !== 'POST' || !act) return void res.writeHead(404).end();
    act().then(
      () => res.writeHead(204).end(),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => control!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
}
