/**
 * Builds the Paso worker: both workflows and every activity on the deployment's task queue, and the same
 * activities on a task queue of this worker's workspaces (workspace affinity: an execution's commands after
 * its first go there, so they find the files the earlier ones wrote). In production it loads the workflow
 * bundle made by `npm run build`; from source (tests of workflow code) it bundles on the fly.
 */
import { Secrets } from '../secrets.js';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { fileStore } from '../store/files.js';
import type { PasoStore } from '../store/store.js';
import type { PasoOptions } from '../api/paso.js';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../config.js';
import type { SlackSettings } from '../slack.js';
import { slackClient } from '../slack.js';
import { projectRoot } from './cli.js';
import { activityLogContext } from '../log-context.js';
import { metricsSinks } from '../metrics/sinks.js';
import { tracingActivityInterceptors } from '../tracing.js';

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
  /** Where executions' workspaces live on this worker (default `<dataDir>/workspaces`). */
  workspaceDir?: string;
  /** How long running commands may finish after SIGTERM (default 25 s). */
  shutdownGraceSeconds?: number;
  /** Workflows kept in memory between their tasks (`PASO_MAX_CACHED_WORKFLOWS`). */
  maxCachedWorkflows?: number;
  /** The most output one run of a command keeps in its log (default 50 MiB). */
  logLimitBytes?: number;
  /** Where logs and annotations go (default: the data directory's files). */
  store?: PasoStore;
  /** The secrets configured on this worker (default: none). */
  secrets?: Secrets;
  /**
   * Workflow code takes stack traces (`PASO_WORKFLOW_STACK_TRACES`; default off, see
   * `workflows/no-stack-traces.ts`). Ignored with `workflowBundlePath`, which says which bundle.
   */
  workflowStackTraces?: boolean;
}

/**
 * The task queue of the workspaces under `dir` on this host. Any worker of this host using the same directory
 * serves it, so a worker restarted in place takes its executions' workspaces back.
 */
export function workspaceTaskQueue(taskQueue: string, dir: string): string {
  const digest = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 12);
  return `${taskQueue}@${os.hostname()}:${digest}`;
}

/** The two Temporal workers of one Paso worker process, run and stopped together. */
export class PasoWorker {
  constructor(
    readonly main: Worker,
    readonly workspaces: Worker,
  ) {}

  /** Runs both until both stop; one failing stops the other. */
  async run(): Promise<void> {
    const runs = [this.main, this.workspaces].map((w) =>
      w.run().catch((err: unknown) => {
        this.shutdown();
        throw err;
      }),
    );
    const [main, workspaces] = await Promise.allSettled(runs);
    for (const r of [main, workspaces]) if (r?.status === 'rejected') throw r.reason;
  }

  shutdown(): void {
    for (const w of [this.main, this.workspaces]) if (w.getState() === 'RUNNING') w.shutdown();
  }

  getState(): ReturnType<Worker['getState']> {
    return this.main.getState();
  }
}

/** The workflow bundle of `npm run build`: workflow code takes no stack traces (`workflows/no-stack-traces.ts`). */
export const WORKFLOW_BUNDLE = path.join(projectRoot(), 'dist', 'workflow-bundle.js');
/** The same workflows with stack traces, for a worker run with `PASO_WORKFLOW_STACK_TRACES=on`. */
export const WORKFLOW_BUNDLE_WITH_STACK_TRACES = path.join(projectRoot(), 'dist', 'workflow-bundle-stack-traces.js');

/**
 * How the workflow code is bundled, with or without stack traces. `fs` is left out: workflows check the
 * definitions they are sent with the definition schema, whose cron check (cron-parser) imports `fs` for
 * crontab files it never reads there.
 */
export function workflowBundlerOptions(stackTraces: boolean) {
  return {
    ignoreModules: ['fs', 'fs/promises'],
    // Shared by every workflow of a thread instead of evaluated for each (see `workflows/preload.ts`); and,
    // unless asked for, no stack traces in workflow code (see `workflows/no-stack-traces.ts`).
    preloadModules: [sibling('../workflows/preload.js'), ...(stackTraces ? [] : [NO_STACK_TRACES_MODULE])],
  };
}

/** This module's sibling in src/ (a `.ts` file, tests from source) or dist/ (`.js`, built). */
function sibling(relative: string): string {
  const js = fileURLToPath(new URL(relative, import.meta.url));
  return existsSync(js) ? js : js.replace(/\.js$/, '.ts');
}

/** Preloaded into a workflow bundle, it keeps workflow code from taking stack traces (see the module). */
export const NO_STACK_TRACES_MODULE = sibling('../workflows/no-stack-traces.js');

/**
 * Workflow interceptors bundled with the workflows (every deployment runs the same bundle): Paso's, for
 * metrics (`pasoMetrics` sink) and to carry the trace context on to activities. Temporal's OpenTelemetry
 * workflow interceptors are not among them: their extra microtask turns break the replay of histories
 * recorded without them (test/integration/replay.test.ts), so workflows have no spans of their own.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [sibling('../metrics/workflow-interceptors.js')];

export async function createPasoWorker(options: PasoWorkerOptions): Promise<PasoWorker> {
  const stackTraces = options.workflowStackTraces ?? false;
  const bundlePath = options.workflowBundlePath ?? (stackTraces ? WORKFLOW_BUNDLE_WITH_STACK_TRACES : WORKFLOW_BUNDLE);
  const workflows = existsSync(bundlePath)
    ? { workflowBundle: { codePath: bundlePath } }
    : {
        workflowsPath: path.join(projectRoot(), 'src', 'workflows', 'index.ts'),
        bundlerOptions: workflowBundlerOptions(stackTraces),
      };
  // Modules for a bundle made here; a prebuilt bundle has them already (scripts/bundle-workflows.ts).
  const workflowModules = 'workflowsPath' in workflows ? WORKFLOW_INTERCEPTOR_MODULES : [];
  const identity = `${process.pid}@${os.hostname()}`;
  const workspaceDir = options.workspaceDir ?? path.join(options.dataDir, 'workspaces');
  const workspaceQueue = workspaceTaskQueue(options.taskQueue, workspaceDir);
  const shutdownGraceSeconds = options.shutdownGraceSeconds ?? 25;
  const activities = createActivities({
    dataDir: options.dataDir,
    killGraceMs: 2_000,
    heartbeatMs: 2_000,
    client: options.client,
    namespace: options.namespace,
    identity,
    workspaces: { dir: workspaceDir, taskQueue: workspaceQueue },
    shutdownGraceSeconds,
    logLimitBytes: options.logLimitBytes,
    store: options.store ?? fileStore(options.dataDir),
    secrets: options.secrets ?? new Secrets([]),
    taskQueue: options.taskQueue,
    pasoOptions: options.pasoOptions,
    watchIntervalMs: 3_000,
    watchMaxRunMs: 60 * 60_000,
    slack: options.slack ? slackClient(options.slack, 'activity') : null,
  });
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    identity,
    activities,
    // Drain: on shutdown, running commands get this long to finish; then they are killed and reported as a
    // lost worker at once (no heartbeat timeout to wait for).
    shutdownGraceTime: shutdownGraceSeconds * 1000,
    // The SDK's heartbeats carry cancellation (stop and abandon) to a command: send them every 2 s at most
    // rather than at 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: 2_000,
    defaultHeartbeatThrottleInterval: 2_000,
    interceptors: { activity: [activityLogContext, ...tracingActivityInterceptors()], workflowModules },
    sinks: metricsSinks(),
  };
  const main = await Worker.create({
    ...common,
    taskQueue: options.taskQueue,
    ...workflows,
    // Workflows waiting for people hold nothing: past this many, the least recently used leave the cache and
    // are replayed from history when they next have work. Keeps a worker's memory flat however many wait
    // (measured by `npm run bench:hibernate`); a queue longer than the cache replays each execution it grants
    // (`BENCH_ONLY=depth npm run bench`).
    maxCachedWorkflows: options.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    // A workflow task for an execution this worker has cached waits this long for it before any worker
    // takes it: a lost worker delays its executions' decisions by this much, not by the default 10 s.
    stickyQueueScheduleToStartTimeout: '2s',
  });
  const workspaces = await Worker.create({ ...common, taskQueue: workspaceQueue });
  return new PasoWorker(main, workspaces);
}
