/**
 * What waits for people, and who may decide it: the manual steps of running executions, with each person's
 * right to decide by the rules the execution enforces (`src/shared/rights.ts`). `GET /waiting`, the console's
 * "Waiting for me" and its execution pages read it here.
 */
import type { User } from '../config.js';
import type { PipelineDefinition } from '../shared/definition.js';
import type { ActionView, ExecutionView } from '../shared/execution-view.js';
import type { Decider } from '../shared/messages.js';
import { approvalRefusal, resumeRefusal, trapRefusal } from '../shared/rights.js';
import { logger } from '../log.js';
import { mapLimit } from '../map-limit.js';
import { GRPC_INVALID_ARGUMENT, grpcCode } from './problem.js';
import type { Paso } from './paso.js';
import type { PendingDecisionSummary } from './schemas.js';

/** A manual step waiting for people, and whether this person may decide it now (or why not). */
export interface PendingDecision extends PendingDecisionSummary {
  /** Why this person may not decide it, or null when they may. */
  refusal: string | null;
}

/** How many executions that wait for people the "waiting for me" page reads at most (the oldest). */
const WAITING_LIMIT = 2_000;
/** How many active executions it reads while Temporal cannot search PasoWaiting yet. */
const LEGACY_FALLBACK = 500;
const log = logger.child({ component: 'waiting' });
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

/**
 * Everything `user` may decide now across pipelines, oldest first: the executions whose `PasoWaiting` says they
 * wait for people, and (until no older execution can still wait) running ones that predate it.
 */
export async function waitingFor(paso: Paso, user: User): Promise<PendingDecision[]> {
  const ids = await candidates(paso);
  const views = await mapLimit(ids, PARALLEL_READS, (id) => paso.getExecution(id).catch(() => null));
  const definitions = new Map<string, Promise<PipelineDefinition | null>>();
  const definitionOf = (view: ExecutionView) => {
    const key = `${view.pipeline}@${view.pipelineVersion}`;
    if (!definitions.has(key)) definitions.set(key, definitionAt(paso, view.pipeline, view.pipelineVersion));
    return definitions.get(key)!;
  };
  const decisions: PendingDecision[] = [];
  for (const view of views) {
    // A stopping execution may still have a trap to skip or abort.
    if (!view || (view.status !== 'InProgress' && view.status !== 'Stopping')) continue;
    const mine = pendingDecisions(view, await definitionOf(view), user).filter((p) => p.refusal === null);
    decisions.push(...mine);
  }
  return decisions.sort((a, b) => (a.since ?? '').localeCompare(b.since ?? ''));
}

/** Executions in progress or stopping: only those can wait for people. */
const ACTIVE = "PasoStatus IN ('InProgress', 'Stopping')";

/** The executions `GET /waiting` reads, oldest first. */
async function candidates(paso: Paso): Promise<string[]> {
  try {
    const [waiting, legacy] = await Promise.all([
      paso.runningExecutions(WAITING_LIMIT, "PasoWaiting IN ('approval', 'resume', 'trap')"),
      // Those that began waiting before executions said so (0.6), by the old scan: PASO_WAITING_SCAN of them.
      paso.waitingScan > 0 ? paso.runningExecutions(paso.waitingScan, `PasoWaiting IS NULL AND ${ACTIVE}`) : [],
    ]);
    return [...new Set([...waiting, ...legacy])];
  } catch (err) {
    if (grpcCode(err) !== GRPC_INVALID_ARGUMENT) throw err;
    // Temporal does not know PasoWaiting yet (this process registers it as it starts, and Temporal's cache
    // follows a little later): the old scan of every active execution, as before 0.6.
    log.warn({ err }, 'PasoWaiting is not searchable yet: reading active executions instead');
    return paso.runningExecutions(LEGACY_FALLBACK, ACTIVE);
  }
}

/** The pipeline's definition if it is still at `version`; null otherwise (the execution checks rights itself). */
export async function definitionAt(paso: Paso, pipeline: string, version: number): Promise<PipelineDefinition | null> {
  const snapshot = await paso.getPipeline(pipeline).catch(() => null);
  return snapshot && snapshot.version === version ? snapshot.definition : null;
}
