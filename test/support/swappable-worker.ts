/**
 * A Paso worker inside the test process, on a task queue of the test's own, running the workflow bundle the
 * test chooses: tests stop it and start it again from other code (an upgrade, an incompatible deploy).
 */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import type { BundleOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import type { PasoWorker } from '../../src/temporal/worker.js';
import { createPasoWorker, workflowBundlerOptions } from '../../src/temporal/worker.js';

export class SwappableWorker {
  private running: { worker: PasoWorker; done: Promise<void>; connection: NativeConnection } | null = null;

  constructor(private readonly options: { client: () => Client; taskQueue: string; dataDir: string }) {}

  async start(bundlePath: string): Promise<void> {
    const connection = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await createPasoWorker({
      connection,
      client: this.options.client(),
      namespace: 'default',
      taskQueue: this.options.taskQueue,
      dataDir: this.options.dataDir,
      pasoOptions: { notificationUrl: null, publicUrl: '', talkback: [] },
      workflowBundlePath: bundlePath,
    });
    this.running = { worker, done: worker.run(), connection };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running.worker.shutdown();
    await this.running.done;
    await this.running.connection.close();
    this.running = null;
  }
}

/** Workflow code bundled as the worker bundles it (optionally with webpack changed), quietly. */
export async function bundleWorkflows(
  workflowsPath: string,
  webpackConfigHook?: BundleOptions['webpackConfigHook'],
): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...workflowBundlerOptions(false),
    ...(webpackConfigHook ? { webpackConfigHook } : {}),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  return code;
}
