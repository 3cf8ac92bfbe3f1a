/**
 * What the console's pages show, read through the one `Paso` service (and the store for annotations). Each
 * loader returns plain data: the page renders it, and the live-update stream compares it between reads.
 */
import type { User } from '../../config.js';
import type { Annotation } from '../../annotations.js';
import type { PipelineDefinition } from '../../shared/definition.js';
import type { ActionView, ExecutionStatus, ExecutionView } from '../../shared/execution-view.js';
import { EXECUTION_STATUSES } from '../../shared/execution-view.js';
import type { Decider } from '../../shared/messages.js';
import type { PipelineState } from '../../shared/pipeline-state.js';
import { approvalRefusal, resumeRefusal, trapRefusal } from '../../shared/rights.js';
import type { PasoStore } from '../../store/store.js';
import { hasRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import type { ExecutionSummary } from '../schemas.js';
import { executionCursor } from '../schemas.js';
import { timeline, type TimelineEntry } from '../timeline.js';

export interface ConsoleDeps {
  paso: Paso;
  store: PasoStore;
  /** The Temporal Web UI, for links to an execution's workflow; null when not known. */
  temporalUiUrl: string | null;
  namespace: string;
}

/** A manual step waiting for people, and whether this person may decide it now (or why not). */
export interface PendingDecision {
  executionId: string;
  pipeline: string;
  stage: string;
  action: string;
  kind: 'approval' | 'resume' | 'trap';
  since: string | null;
  expiresAt: string | null;
  message: string | null;
  url: string | null;
  /** Approvals so far and how many are required (approvals only). */
  approvals: { count: number; required: number } | null;
  /** Why this person may not decide it, or null when they may. */
  refusal: string | null;
}

/** What a person may do on an execution now: each button's availability, with the reason when not. */
export interface ExecutionRights {
  decisions: PendingDecision[];
  stop: string | null;
  retry: string | null;
  annotate: string | null;
}

export interface ExecutionPage {
  view: ExecutionView;
  rights: ExecutionRights;
  timeline: TimelineEntry[];
  annotations: Annotation[];
  temporalUrl: string | null;
}

export interface PipelinePage {
  state: PipelineState;
  executions: ExecutionSummary[];
  nextCursor: string | null;
  status: ExecutionStatus | null;
  mayToggle: string | null;
}

/** How many running executions the "waiting for me" page looks through, oldest first. */
const WAITING_SCAN_LIMIT = 500;
const PARALLEL_READS = 8;

export function decider(user: User): Decider {
  return { by: user.name, groups: [...user.groups], roles: [...user.roles] };
}

/** The manual steps of `view` that wait for people, with this person's right to decide each. */
export function pendingDecisions(view: ExecutionView, definition: PipelineDefinition | null, user: User) {
  const found: PendingDecision[] = [];
  const d = decider(user);
  for (const stage of view.stages) {
    for (const action of stage.actions) {
      if (!action.waitingFor) continue;
      const spec = definition?.stages.find((s) => s.name === stage.name)?.actions.find((a) => a.name === action.name);
      found.push({
        executionId: view.executionId,
        pipeline: view.pipeline,
        stage: stage.name,
        action: action.name,
        kind: action.waitingFor,
        since: action.startedAt,
        expiresAt: action.request?.expiresAt ?? null,
        message: action.request?.message ?? null,
        url: action.request?.url ?? null,
        approvals:
          action.waitingFor === 'approval' && spec?.type === 'approval'
            ? { count: approvedBy(action).length, required: spec.required }
            : null,
        refusal: refusalFor(action, spec ?? null, d, view.trigger.by),
      });
    }
  }
  return found;
}

/**
 * The rules of `src/shared/rights.ts`, which the execution enforces. With the definition of another version
 * than the execution's (changed since), the button is offered and the execution decides.
 */
function refusalFor(
  action: ActionView,
  spec: PipelineDefinition['stages'][number]['actions'][number] | null,
  d: Decider,
  triggeredBy: string,
): string | null {
  if (action.waitingFor === 'trap') return trapRefusal(d);
  if (action.waitingFor === 'approval') {
    if (approvedBy(action).includes(d.by)) return `${d.by} has already approved; each person counts once`;
    return spec?.type === 'approval' ? approvalRefusal(d, spec, triggeredBy) : null;
  }
  return spec?.type === 'pause' ? resumeRefusal(d, spec) : null;
}

function approvedBy(action: ActionView): string[] {
  return action.approvals.filter((a) => a.decision === 'approve').map((a) => a.by);
}

export class ConsoleData {
  constructor(private readonly deps: ConsoleDeps) {}

  /** Everything this person may decide now, across pipelines, oldest first. */
  async waitingFor(user: User): Promise<PendingDecision[]> {
    const { paso } = this.deps;
    const ids = await paso.runningExecutions(WAITING_SCAN_LIMIT);
    const views = await mapLimit(ids, PARALLEL_READS, (id) => paso.getExecution(id).catch(() => null));
    const definitions = new Map<string, Promise<PipelineDefinition | null>>();
    const definitionOf = (view: ExecutionView) => {
      const key = `${view.pipeline}@${view.pipelineVersion}`;
      if (!definitions.has(key)) definitions.set(key, this.definitionAt(view.pipeline, view.pipelineVersion));
      return definitions.get(key)!;
    };
    const decisions: PendingDecision[] = [];
    for (const view of views) {
      if (!view || view.status !== 'InProgress') continue;
      const mine = pendingDecisions(view, await definitionOf(view), user).filter((p) => p.refusal === null);
      decisions.push(...mine);
    }
    return decisions.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
  }

  async pipelines(): Promise<PipelineState[]> {
    const { paso } = this.deps;
    const snapshots = await paso.listPipelines();
    const states = await mapLimit(snapshots, PARALLEL_READS, (p) => paso.pipelineState(p.name).catch(() => null));
    return states.filter((s): s is PipelineState => s !== null);
  }

  async pipeline(user: User, name: string, query: { status?: string; cursor?: string }): Promise<PipelinePage> {
    const { paso } = this.deps;
    const status = EXECUTION_STATUSES.find((s) => s === query.status) ?? null;
    const cursor = query.cursor ? executionCursor.decode(query.cursor) : undefined;
    if (cursor === null) throw new HttpProblem(400, 'this page’s cursor is not one Paso gave');
    const [state, page] = await Promise.all([
      paso.pipelineState(name),
      paso.listExecutions(name, { limit: 20, cursor, ...(status ? { status } : {}) }),
    ]);
    return {
      state,
      ...page,
      status,
      mayToggle: hasRole(user, 'operator') ? null : 'changing transitions needs the operator role',
    };
  }

  async execution(user: User, id: string): Promise<ExecutionPage> {
    const { paso, store } = this.deps;
    const view = await paso.getExecution(id);
    const [definition, annotations] = await Promise.all([
      this.definitionAt(view.pipeline, view.pipelineVersion),
      store.annotations.list(id),
    ]);
    const operator = hasRole(user, 'operator') ? null : 'this needs the operator role';
    const running = view.status === 'InProgress';
    return {
      view,
      rights: {
        decisions: pendingDecisions(view, definition, user),
        stop: operator ?? (running ? null : `the execution is ${view.status}`),
        retry: operator ?? (view.retryableStage ? null : 'there is no failed stage to retry'),
        annotate: operator,
      },
      timeline: timeline(view, annotations, (a) => `/ui/api/executions/${id}/annotations/${a.id}/file`),
      annotations,
      temporalUrl: this.deps.temporalUiUrl
        ? `${this.deps.temporalUiUrl}/namespaces/${encodeURIComponent(this.deps.namespace)}/workflows/${encodeURIComponent(id)}`
        : null,
    };
  }

  /** The pipeline's definition if it is still at `version`; null otherwise (the execution checks rights itself). */
  private async definitionAt(pipeline: string, version: number): Promise<PipelineDefinition | null> {
    const snapshot = await this.deps.paso.getPipeline(pipeline).catch(() => null);
    return snapshot && snapshot.version === version ? snapshot.definition : null;
  }
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
