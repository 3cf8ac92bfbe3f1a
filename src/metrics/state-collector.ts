/**
 * The gauges of what waits and what is locked now, read from Temporal when Prometheus scrapes the gateway, at
 * most once per {@link STATE_TTL_MS} (scrapes in between get the same values):
 * - the pipelines: the running coordinators of this deployment's task queue (visibility), then each one's
 *   `pipelineState` query: locks, inbound executions (queue depth), transitions;
 * - the executions whose workflow runs (visibility), then each one's `execution` query (the view users see):
 *   its status, what it waits for (a person: approval, pause, trap; or a stage: its lock, its transition), when
 *   a pending approval times out, and since when the lock holder holds its stage.
 * An execution waiting for a person has usually left the worker's cache, so its query replays it on a worker:
 * at most {@link MAX_EXECUTIONS} are read per refresh, a few at a time.
 */
import type { Client } from '@temporalio/client';
import { logger } from '../log.js';
import type { ExecutionView } from '../shared/execution-view.js';
import { executionQuery, pipelineStateQuery } from '../shared/messages.js';
import type { PipelineState } from '../shared/pipeline-state.js';
import { coordinatorWorkflowId, executionWorkflowId, PasoPipeline } from '../shared/temporal.js';
import {
  approvalNextExpiry,
  executionsRunning,
  executionsWaiting,
  stageLocked,
  stageLockHeld,
  stageQueueDepth,
  stageTransitionEnabled,
  stateScrapeErrors,
} from './metrics.js';
import { mapLimit } from '../map-limit.js';

export const STATE_TTL_MS = 10_000;
const MAX_EXECUTIONS = 500;
const CONCURRENCY = 8;
/** A scrape never waits longer than this for Temporal; the gauges keep their last values meanwhile. */
const DEADLINE_MS = 5_000;

const log = logger.child({ component: 'metrics' });
const WAIT_KINDS = { approval: 'approval', resume: 'pause', trap: 'trap' } as const;

export class StateCollector {
  private last = 0;
  private running: Promise<void> | null = null;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Brings the gauges up to date unless they are fresh; never throws, never waits past the deadline. */
  async refresh(): Promise<void> {
    if (Date.now() - this.last < STATE_TTL_MS) return;
    this.running ??= this.read()
      .then(() => void (this.last = Date.now()))
      .catch((err: unknown) => {
        stateScrapeErrors.inc();
        log.warn({ err }, 'could not read the pipelines state for the metrics');
      })
      .finally(() => (this.running = null));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => (timer = setTimeout(r, DEADLINE_MS)))]);
    clearTimeout(timer);
  }

  private async read(): Promise<void> {
    const [pipelines, executions] = await Promise.all([this.readPipelines(), this.readExecutions()]);
    const views = new Map(executions.map((v) => [v.executionId, v]));
    const now = Date.now();
    for (const g of [stageLocked, stageLockHeld, stageQueueDepth, stageTransitionEnabled]) g.reset();
    for (const state of pipelines) {
      for (const stage of state.stages) {
        const labels = { pipeline: state.name, stage: stage.name };
        stageLocked.set(labels, stage.lockedBy ? 1 : 0);
        stageQueueDepth.set(labels, stage.inbound.length);
        stageTransitionEnabled.set(labels, stage.transition.enabled ? 1 : 0);
        const holder = stage.lockedBy ? (views.get(stage.lockedBy) ?? (await this.view(stage.lockedBy))) : null;
        const since = holder?.stages.find((s) => s.name === stage.name)?.startedAt;
        stageLockHeld.set(labels, since ? Math.max(0, (now - Date.parse(since)) / 1000) : 0);
      }
    }
    for (const g of [executionsRunning, executionsWaiting, approvalNextExpiry]) g.reset();
    const nextExpiry = new Map<string, number>();
    for (const view of executions) {
      executionsRunning.inc({ pipeline: view.pipeline, status: view.status });
      if (view.waiting) {
        const kind = view.waiting.for === 'TRANSITION' ? 'transition' : 'stage_lock';
        executionsWaiting.inc({ pipeline: view.pipeline, kind });
      }
      for (const action of view.stages.flatMap((s) => s.actions)) {
        if (!action.waitingFor) continue;
        executionsWaiting.inc({ pipeline: view.pipeline, kind: WAIT_KINDS[action.waitingFor] });
        if (action.waitingFor === 'approval' && action.request) {
          const at = Date.parse(action.request.expiresAt) / 1000;
          nextExpiry.set(view.pipeline, Math.min(nextExpiry.get(view.pipeline) ?? Infinity, at));
        }
      }
    }
    for (const [pipeline, at] of nextExpiry) approvalNextExpiry.set({ pipeline }, at);
  }

  private async readPipelines(): Promise<PipelineState[]> {
    const query =
      `WorkflowType = 'coordinator' AND ExecutionStatus = 'Running' AND PasoStatus = 'Active' ` +
      `AND TaskQueue = '${this.taskQueue}'`;
    const names: string[] = [];
    for await (const wf of this.client.workflow.list({ query })) {
      const name = wf.typedSearchAttributes.get(PasoPipeline);
      if (name) names.push(name);
    }
    const states = await inBatches(names, (name) =>
      this.client.workflow.getHandle(coordinatorWorkflowId(name)).query(pipelineStateQuery),
    );
    return states.filter((s): s is PipelineState => s !== null);
  }

  private async readExecutions(): Promise<ExecutionView[]> {
    const query = `WorkflowType = 'execution' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue}'`;
    const ids: string[] = [];
    for await (const wf of this.client.workflow.list({ query, pageSize: MAX_EXECUTIONS })) {
      ids.push(wf.workflowId);
      if (ids.length >= MAX_EXECUTIONS) break;
    }
    const views = await inBatches(ids, (id) => this.view(id));
    return views.filter((v): v is ExecutionView => v !== null);
  }

  private async view(executionId: string): Promise<ExecutionView | null> {
    return this.client.workflow
      .getHandle(executionWorkflowId(executionId))
      .query(executionQuery)
      .catch(() => null);
  }
}

/** `fn` over `items`, {@link CONCURRENCY} at a time; an item whose call fails gives null. */
function inBatches<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<(R | null)[]> {
  return mapLimit(items, CONCURRENCY, (item) => fn(item).catch(() => null));
}
