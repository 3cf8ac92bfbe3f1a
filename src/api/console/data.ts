/**
 * What the console's pages show, read through the one `Paso` service (and the store for annotations). Each
 * loader returns plain data: the page renders it, and the live-update stream compares it between reads.
 */
import type { User } from '../../config.js';
import type { Annotation } from '../../annotations.js';
import type { ExecutionStatus, ExecutionView } from '../../shared/execution-view.js';
import { EXECUTION_STATUSES } from '../../shared/execution-view.js';
import type { PipelineState } from '../../shared/pipeline-state.js';
import type { PasoStore } from '../../store/store.js';
import { hasRole } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem } from '../problem.js';
import type { ExecutionSummary } from '../schemas.js';
import { executionCursor } from '../schemas.js';
import { timeline, type TimelineEntry } from '../timeline.js';
import { mapLimit } from '../../map-limit.js';
import { definitionAt, pendingDecisions, waitingFor, type PendingDecision } from '../waiting.js';

export type { PendingDecision };

export interface ConsoleDeps {
  paso: Paso;
  store: PasoStore;
  /** The Temporal Web UI, for links to an execution's workflow; null when not known. */
  temporalUiUrl: string | null;
  namespace: string;
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

const PARALLEL_READS = 8;

export class ConsoleData {
  constructor(private readonly deps: ConsoleDeps) {}

  /** Everything this person may decide now, across pipelines, oldest first. */
  waitingFor(user: User): Promise<PendingDecision[]> {
    return waitingFor(this.deps.paso, user);
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
      definitionAt(paso, view.pipeline, view.pipelineVersion),
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
}
