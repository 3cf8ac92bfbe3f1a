/**
 * Deletes the workspaces of ended executions on this worker, `PASO_WORKSPACE_RETENTION_HOURS` after they
 * ended (or at once for an execution Temporal no longer knows, once the directory is that old). An execution
 * that still runs, however long it waits (an approval, the retry window), keeps its workspace.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { parseExecutionId } from './shared/execution.js';
import { executionWorkflowId } from './shared/temporal.js';

export interface SweeperOptions {
  client: Client;
  dir: string;
  retentionMs: number;
  /** How often to look (default: a quarter of the retention, between 1 s and 1 h). */
  intervalMs?: number;
  log?: (line: string) => void;
}

export function sweepWorkspaces(options: SweeperOptions): { stop(): void } {
  const interval = options.intervalMs ?? Math.min(3_600_000, Math.max(1_000, options.retentionMs / 4));
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sweepOnce(options)
      .catch((err: unknown) => options.log?.(`workspace sweep failed: ${String(err)}`))
      .finally(() => (running = false));
  }, interval);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** One pass; returns the execution ids whose workspaces were deleted. */
export async function sweepOnce(options: SweeperOptions): Promise<string[]> {
  const entries = await readdir(options.dir, { withFileTypes: true }).catch(() => []);
  const deleted: string[] = [];
  const now = Date.now();
  for (const entry of entries) {
    if (!entry.isDirectory() || !parseExecutionId(entry.name)) continue;
    const dir = path.join(options.dir, entry.name);
    const modified = (await stat(dir)).mtimeMs;
    if (now - modified < options.retentionMs) continue;
    let endedAt: number;
    try {
      const description = await options.client.workflow.getHandle(executionWorkflowId(entry.name)).describe();
      if (description.status.name === 'RUNNING' || !description.closeTime) continue;
      endedAt = description.closeTime.getTime();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      endedAt = modified;
    }
    if (now - endedAt < options.retentionMs) continue;
    await rm(dir, { recursive: true, force: true });
    deleted.push(entry.name);
  }
  if (deleted.length > 0) options.log?.(`workspaces deleted (ended more than the retention ago): ${deleted.join(' ')}`);
  return deleted;
}
