/**
 * Builds the Paso worker: both workflows and every activity on one task queue. In production it loads the
 * workflow bundle made by `npm run build`; from source (tests of workflow code) it bundles on the fly.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { PasoOptions } from '../api/paso.js';
import type { SlackSettings } from '../slack.js';
import { slackClient } from '../slack.js';
import { projectRoot } from './cli.js';

export interface PasoWorkerOptions {
  connection: NativeConnection;
  /** For activities that talk to Temporal (the coordinator's watcher). */
  client: Client;
  namespace: string;
  taskQueue: string;
  dataDir: string;
  pasoOptions: PasoOptions;
  /** ChatOps: where executions post to their bound channels (the config file's `slack`), if anywhere. */
  slack?: SlackSettings;
  /** Override where the workflow bundle comes from (tests bundle once and share it). */
  workflowBundlePath?: string;
}

export const WORKFLOW_BUNDLE = path.join(projectRoot(), 'dist', 'workflow-bundle.js');

export async function createPasoWorker(options: PasoWorkerOptions): Promise<Worker> {
  const bundlePath = options.workflowBundlePath ?? WORKFLOW_BUNDLE;
  const workflows = existsSync(bundlePath)
    ? { workflowBundle: { codePath: bundlePath } }
    : { workflowsPath: path.join(projectRoot(), 'src', 'workflows', 'index.ts') };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...workflows,
    activities: createActivities({
      dataDir: options.dataDir,
      killGraceMs: 2_000,
      heartbeatMs: 2_000,
      client: options.client,
      taskQueue: options.taskQueue,
      pasoOptions: options.pasoOptions,
      watchIntervalMs: 3_000,
      watchMaxRunMs: 60 * 60_000,
      slack: options.slack ? slackClient(options.slack, 'activity') : null,
    }),
    // Workflows waiting for people hold nothing: past this many, the least recently used leave the cache and
    // are replayed from history when they next have work. Keeps a worker's memory flat however many wait
    // (measured by `npm run bench:hibernate`).
    maxCachedWorkflows: 250,
    // On shutdown, running commands get this long before they are cancelled (and their process groups
    // killed); Temporal then runs them again on another worker.
    shutdownGraceTime: '5s',
  });
}
