/**
 * Workflow interceptors for metrics and trace propagation, bundled with the workflows
 * (`workflowInterceptorModules`). They run in the deterministic sandbox, add no command, and never yield:
 * every method hands its input straight on (no `async` wrapper, whose extra microtask turns would reorder
 * commands against histories recorded without them; Temporal's own OpenTelemetry workflow interceptors do
 * that, which is why they are not in the bundle).
 *
 * Metrics: they read the execution's input, the signals it sends and receives, and its search attributes at
 * the end of each activation. What they see goes out through the `pasoMetrics` sink (`sinks.ts` counts it),
 * which adds no event to the history; nothing is sent while a workflow replays, so an execution is counted
 * once however often it is replayed.
 *
 * Traces: the trace context the client put in the workflow's start headers (`_tracer-data`, by Temporal's
 * OpenTelemetry client interceptor) is copied into the headers of every activity the workflow schedules, so
 * the activity's span (Temporal's activity interceptor) joins the trace of the request that started it.
 * Headers are not part of Temporal's determinism checks.
 */
import type {
  ActivityInput,
  ConcludeActivationInput,
  Next,
  SignalInput,
  SignalWorkflowInput,
  Sinks,
  WorkflowExecuteInput,
  WorkflowInboundCallsInterceptor,
  WorkflowInterceptors,
  WorkflowInternalsInterceptor,
  WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { proxySinks, workflowInfo } from '@temporalio/workflow';
import { PasoStatus } from '../shared/temporal.js';
import { askedStage, type HandOff } from '../workflows/hand-off.js';

export interface ExecutionStartedEvent {
  pipeline: string;
  trigger: string;
}
export interface ExecutionEndedEvent {
  pipeline: string;
  status: string;
  seconds: number;
}
export interface StageGrantedEvent {
  pipeline: string;
  stage: string;
  seconds: number;
  /** What the execution waited for before the grant, if it was told to wait. */
  waitedFor: 'stage_lock' | 'transition' | null;
}

export interface PasoMetricsSinks extends Sinks {
  pasoMetrics: {
    executionStarted(event: ExecutionStartedEvent): void;
    executionEnded(event: ExecutionEndedEvent): void;
    stageGranted(event: StageGrantedEvent): void;
  };
}

const END_STATUSES = new Set(['Succeeded', 'Failed', 'Stopped', 'Superseded', 'Cancelled']);

/** The state one execution's interceptors share: rebuilt by replay after an eviction, like the workflow's. */
class ExecutionObserver {
  pipeline: string | null = null;
  lastStatus: string | null = null;
  private readonly asked = new Map<string, { at: number; waitedFor: StageGrantedEvent['waitedFor'] }>();
  /** Stages a running command asks for as it ends (src/workflows/hand-off.ts): the answer may come first. */
  private readonly handing = new Map<string, { waitedFor: StageGrantedEvent['waitedFor']; grantedAt: number | null }>();
  private readonly sinks = proxySinks<PasoMetricsSinks>().pasoMetrics;

  /** Sinks are not called while replaying: what replay re-runs was counted when it first ran. */
  private send(call: (sinks: PasoMetricsSinks['pasoMetrics']) => void): void {
    if (!workflowInfo().unsafe.isReplaying) call(this.sinks);
  }

  started(input: { pipeline?: unknown; trigger?: { type?: unknown } } | undefined): void {
    if (typeof input?.pipeline !== 'string') return;
    this.pipeline = input.pipeline;
    const trigger = typeof input.trigger?.type === 'string' ? input.trigger.type : 'manual';
    this.send((s) => s.executionStarted({ pipeline: input.pipeline as string, trigger }));
  }

  askedFor(stage: string): void {
    this.asked.set(stage, { at: Date.now(), waitedFor: null });
  }

  /**
   * A command asks for `stage` as its script exits 0, when it can: the ask is timed from the command's end
   * (its outcome's `endedAt`), once its outcome says it was sent; a grant seen before that waits for it.
   * `ended` is the activity's own promise: a reaction is added to it, the promise handed on is the same.
   */
  handingOn(stage: string, ended: Promise<unknown>): void {
    this.handing.set(stage, { waitedFor: null, grantedAt: null });
    ended.then(
      (outcome) => {
        const handing = this.handing.get(stage);
        this.handing.delete(stage);
        const { handedOff, endedAt } = (outcome ?? {}) as { handedOff?: unknown; endedAt?: unknown };
        if (!handing || handedOff !== true || typeof endedAt !== 'string') return;
        const asked = { at: Date.parse(endedAt), waitedFor: handing.waitedFor };
        if (handing.grantedAt === null) this.asked.set(stage, asked);
        else this.emit(stage, asked, handing.grantedAt);
      },
      () => void this.handing.delete(stage),
    );
  }

  toldToWait(stage: string, reason: string): void {
    const asked = this.handing.get(stage) ?? this.asked.get(stage);
    if (asked) asked.waitedFor = reason === 'TRANSITION' ? 'transition' : 'stage_lock';
  }

  granted(stage: string): void {
    const handing = this.handing.get(stage);
    if (handing) {
      handing.grantedAt = Date.now();
      return;
    }
    const asked = this.asked.get(stage);
    if (!asked) return;
    this.asked.delete(stage);
    this.emit(stage, asked, Date.now());
  }

  private emit(stage: string, asked: { at: number; waitedFor: StageGrantedEvent['waitedFor'] }, at: number): void {
    const pipeline = this.pipeline;
    if (!pipeline) return;
    const seconds = Math.max(0, at - asked.at) / 1000;
    this.send((s) => s.stageGranted({ pipeline, stage, seconds, waitedFor: asked.waitedFor }));
  }

  activationConcluded(): void {
    const pipeline = this.pipeline;
    if (!pipeline) return;
    const status = workflowInfo().typedSearchAttributes.get(PasoStatus) ?? null;
    if (status === this.lastStatus) return;
    this.lastStatus = status;
    if (status === null || !END_STATUSES.has(status)) return;
    const seconds = Math.max(0, Date.now() - workflowInfo().startTime.getTime()) / 1000;
    this.send((s) => s.executionEnded({ pipeline, status, seconds }));
  }
}

/** Temporal's OpenTelemetry interceptors carry the span context in this header. */
const TRACE_HEADER = '_tracer-data';

class Inbound implements WorkflowInboundCallsInterceptor {
  constructor(
    private readonly observer: ExecutionObserver | null,
    private readonly trace: TraceContext,
  ) {}

  execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    this.trace.header = input.headers[TRACE_HEADER];
    this.observer?.started(input.args[0] as Parameters<ExecutionObserver['started']>[0]);
    return next(input);
  }

  handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>): Promise<void> {
    if (!this.observer) return next(input);
    const arg = input.args[0] as { stage?: unknown; for?: unknown } | undefined;
    if (typeof arg?.stage === 'string') {
      if (input.signalName === 'stageWait') this.observer.toldToWait(arg.stage, String(arg.for));
      if (input.signalName === 'stageGranted') this.observer.granted(arg.stage);
    }
    return next(input);
  }
}

class Outbound implements WorkflowOutboundCallsInterceptor {
  constructor(
    private readonly observer: ExecutionObserver | null,
    private readonly trace: TraceContext,
  ) {}

  signalWorkflow(
    input: SignalWorkflowInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>,
  ): Promise<void> {
    const arg = input.args[0] as { stage?: unknown } | undefined;
    if (input.signalName === 'requestStage' && typeof arg?.stage === 'string') this.observer?.askedFor(arg.stage);
    return next(input);
  }

  scheduleActivity(
    input: ActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>,
  ): Promise<unknown> {
    const header = this.trace.header;
    const traced =
      !header || input.headers[TRACE_HEADER]
        ? input
        : { ...input, headers: { ...input.headers, [TRACE_HEADER]: header } };
    const result = next(traced);
    // A command's activity (RunCommandInput) may carry the hand-off of its stage (src/workflows/hand-off.ts).
    const asked = askedStage((input.args[0] as { handOff?: HandOff } | undefined)?.handOff);
    if (this.observer && asked !== null) this.observer.handingOn(asked, result);
    return result;
  }
}

class TraceContext {
  header: WorkflowExecuteInput['headers'][string] | undefined;
}

class Internals implements WorkflowInternalsInterceptor {
  constructor(private readonly observer: ExecutionObserver) {}

  concludeActivation(
    input: ConcludeActivationInput,
    next: Next<WorkflowInternalsInterceptor, 'concludeActivation'>,
  ): ReturnType<Next<WorkflowInternalsInterceptor, 'concludeActivation'>> {
    this.observer.activationConcluded();
    return next(input);
  }
}

/** Metrics for executions only (coordinators, CHECK and scheduled triggers are measured elsewhere); traces for all. */
export const interceptors = (): WorkflowInterceptors => {
  const trace = new TraceContext();
  const observer = workflowInfo().workflowType === 'execution' ? new ExecutionObserver() : null;
  return {
    inbound: [new Inbound(observer, trace)],
    outbound: [new Outbound(observer, trace)],
    internals: observer ? [new Internals(observer)] : [],
  };
};
