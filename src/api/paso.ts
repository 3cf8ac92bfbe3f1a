/**
 * What people can do with pipelines and executions, in Temporal terms. The HTTP routes and ChatOps both
 * translate to these calls, so a person's rights over an execution are checked here, once, whichever way
 * they ask.
 */
import { Secrets, type SecretSource } from '../secrets.js';
import { createHash } from 'node:crypto';
import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { FreezeDefinition, PipelineDefinition } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import { executionIdOf, parseExecutionId } from '../shared/execution.js';
import type { LockDeclaration, PasoConfig, User } from '../config.js';
import { DEFAULT_WAITING_SCAN } from '../config.js';
import { lockNeeds, type LockOrder, type LockView, namedLocksWorkflowId } from '../shared/named-locks.js';
import { formatPath } from '../shared/validation.js';
import { mapLimit } from '../map-limit.js';
import { AllocationBatcher, type Settled } from './allocation-batcher.js';
import { logger } from '../log.js';
import type { ExecutionStatus, ExecutionView, TalkbackRun } from '../shared/execution-view.js';
import { EXECUTION_STATUSES } from '../shared/execution-view.js';
import type { AllocateExecutionInput, AllocateExecutionResult, PipelineSnapshot } from '../shared/messages.js';
import {
  advanceExecutionsUpdate,
  allocateExecutionUpdate,
  allocateExecutionsUpdate,
  ErrorTypes,
  MAX_ALLOCATIONS_PER_UPDATE,
  bindChannelUpdate,
  decideApprovalUpdate,
  decideResumeUpdate,
  decideTrapUpdate,
  deletePipelineUpdate,
  executionForKeyQuery,
  executionQuery,
  namedLocksQuery,
  pipelineQuery,
  pipelineStateQuery,
  putDefinitionUpdate,
  retryUpdate,
  runTalkbackUpdate,
  passWindowUpdate,
  setConfigFreezesUpdate,
  setTransitionUpdate,
  stopUpdate,
  withdrawSignal,
} from '../shared/messages.js';
import type {
  ApprovalDecision,
  ChannelRef,
  ExecutionOutcome,
  Decider,
  ResumeDecision,
  RetryInput,
  StopInput,
  TrapDecision,
} from '../shared/messages.js';
import type { PipelineState, StageState } from '../shared/pipeline-state.js';
import { coordinatorWorkflowId, executionWorkflowId, PasoPipeline, PasoStage, PasoStatus } from '../shared/temporal.js';
import { stableJson } from '../workflows/json.js';
import type { coordinator } from '../workflows/coordinator.js';
import type { execution } from '../workflows/execution.js';
import { authorize } from './auth.js';
import { runChecks } from './check.js';
import { GRPC_FAILED_PRECONDITION, GRPC_RESOURCE_EXHAUSTED, grpcCode, HttpProblem } from './problem.js';
import type { ExecutionSummary, LockInfo, TriggerBody } from './schemas.js';
import { executionCursor } from './schemas.js';

export interface PutPipelineResult {
  name: string;
  version: number;
  created: boolean;
}

export interface TriggerResult {
  executionId: string;
  status: ExecutionStatus;
  created: boolean;
}

/** What a trigger passes on to the execution from the deployment's configuration. */
export interface PasoOptions {
  notificationUrl: string | null;
  publicUrl: string;
  /** The commands people may run on an execution's behalf (ChatOps `run`, `POST /executions/:id/talkback`). */
  talkback: PasoConfig['talkback'];
  /** Given to every new execution: its commands' heartbeat timeout (PASO_HEARTBEAT_TIMEOUT_SECONDS). */
  heartbeatTimeoutSeconds?: number;
  /** The secrets configured for workers: the gateway checks definitions against their names and scopes. */
  secrets?: readonly SecretSource[];
  /** Allocation Updates in flight per coordinator from this process (PASO_UPDATES_IN_FLIGHT). */
  updatesInFlight?: number;
  /** Running executions without `PasoWaiting` that `GET /waiting` also reads (PASO_WAITING_SCAN). */
  waitingScan?: number;
  /** The named locks the config declares (null or absent: any name, `fifo`). */
  locks?: readonly LockDeclaration[] | null;
  /** The config-wide change freezes, given to every coordinator and every execution. */
  freezes?: readonly FreezeDefinition[];
  /**
   * A client on the connection of a worker in this same process (`npm start` runs both): executions started
   * through it ask for Temporal's eager start, and take their first workflow task from the start's answer
   * instead of through the task queue. Absent (a gateway on its own): executions start the usual way.
   */
  starter?: Client;
}

/**
 * How long after its key was first used an execution that Temporal does not know is taken for one whose start
 * was cut short (and started now); past it, for one that retention purged.
 */
const INTERRUPTED_START_MS = 10 * 60_000;

/** How far this host's clock and Temporal's may disagree, for telling a twin trigger's start from an old one. */
const CLOCK_SLACK_MS = 5_000;

/** The most running executions' ids {@link Paso.runningExecutions} reads from visibility. */
const RUNNING_LIST_CAP = 20_000;

/** Listing executions reads ids in windows of this many, at most {@link LIST_WINDOWS} windows per page. */
const LIST_WINDOW_IDS = 100;
const LIST_WINDOWS = 10;
const numberOf = (executionId: string) => parseExecutionId(executionId)?.n ?? 0;

export class Paso {
  /**
   * Allocation Updates in flight per coordinator from this process (`PASO_UPDATES_IN_FLIGHT`, 4): Temporal
   * admits `history.maxInFlightUpdates` (10 by default; 50 on the servers Paso starts) per workflow, across
   * gateways. The triggers that arrive meanwhile wait, and go together in the next (see allocation-batcher.ts).
   */
  private readonly allocations: AllocationBatcher<AllocateExecutionInput, AllocateExecutionResult>;
  /** Coordinators that refused `allocateExecutions` (run by a worker of before 0.8), until when. */
  private readonly singleAllocations = new Map<string, number>();
  /** The latest trigger of each pipeline and idempotency key through this gateway (see `trigger`). */
  private readonly keyedTriggers = new Map<string, Promise<TriggerResult>>();
  /** A coordinator being started again, so that the triggers that found it gone start it once. */
  private readonly revivals = new Map<string, Promise<void>>();
  private readonly definitions = new Map<string, { at: number; definition: Promise<PipelineDefinition> }>();

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: PasoOptions,
  ) {
    this.allocations = new AllocationBatcher({
      inFlight: options.updatesInFlight ?? 4,
      maxBatch: MAX_ALLOCATIONS_PER_UPDATE,
      send: (pipeline, requests) => this.sendAllocations(pipeline, requests),
    });
  }

  /** Refuses (400, by path) a definition naming a secret that is not configured, or not for this pipeline. */
  checkSecrets(definition: PipelineDefinition): void {
    const errors = new Secrets(this.options.secrets ?? []).check(definition);
    if (errors.length) {
      throw new HttpProblem(400, 'the definition names secrets that its commands cannot be given', errors);
    }
  }

  /** Refuses (400, by path) a definition naming a lock the config does not declare. */
  checkLocks(definition: PipelineDefinition): void {
    const declared = this.options.locks;
    if (!declared) return;
    const known = new Set(declared.map((l) => l.name));
    const errors = definition.stages.flatMap((stage, s) =>
      lockNeeds(stage.locks).flatMap(({ name }, l) =>
        known.has(name)
          ? []
          : [
              {
                path: formatPath(['stages', s, 'locks', l]),
                message: `no lock "${name}" is declared in the config's locks`,
              },
            ],
      ),
    );
    if (errors.length) throw new HttpProblem(400, 'the definition names locks that are not declared', errors);
  }

  /** The order of each named lock the definition's stages take, as the config declares it now. */
  private lockOrders(definition: PipelineDefinition): Record<string, LockOrder> | undefined {
    const names = new Set(definition.stages.flatMap((s) => lockNeeds(s.locks).map((l) => l.name)));
    if (names.size === 0) return undefined;
    const declared = new Map((this.options.locks ?? []).map((l) => [l.name, l.order]));
    return Object.fromEntries([...names].map((name) => [name, declared.get(name) ?? 'fifo']));
  }

  async putPipeline(definition: PipelineDefinition, by: string): Promise<PutPipelineResult> {
    const input = { definition, by };
    const start = new WithStartWorkflowOperation<typeof coordinator>('coordinator', {
      workflowId: coordinatorWorkflowId(definition.name),
      taskQueue: this.taskQueue,
      workflowIdConflictPolicy: 'USE_EXISTING',
      args: [input],
      typedSearchAttributes: [{ key: PasoPipeline, value: definition.name }],
      staticSummary: `Coordinator of pipeline ${definition.name}`,
    });
    const result = await this.client.workflow.executeUpdateWithStart(putDefinitionUpdate, {
      args: [input],
      startWorkflowOperation: start,
    });
    // A pipeline created now (or by an older gateway) learns the config-wide freezes at once; should that fail,
    // the definition stands and the next gateway start gives them.
    await this.sendConfigFreezes(definition.name).catch((err: unknown) => {
      logger.warn({ pipeline: definition.name, err }, 'the config-wide freezes could not be given to the pipeline');
    });
    return { name: definition.name, version: result.version, created: result.created };
  }

  /**
   * Gives every pipeline's coordinator the config's change freezes (an empty list lifts earlier ones): what a
   * gateway does when it starts, so that a freeze added to the config file holds every pipeline. Returns the
   * pipelines whose freezes changed; throws when Temporal cannot be reached (the caller tries again).
   */
  async syncConfigFreezes(): Promise<string[]> {
    const pipelines = await this.listPipelines();
    let failed = 0;
    const changed = await mapLimit(pipelines, 8, async (p) => {
      const given = JSON.stringify(p.configFreezes ?? []);
      if (given === JSON.stringify(this.options.freezes ?? [])) return false;
      try {
        return (await this.sendConfigFreezes(p.name)).changed;
      } catch (err) {
        // One pipeline refusing (its coordinator runs older code, say) does not hold the others back.
        failed += 1;
        logger.warn({ pipeline: p.name, err }, 'the config-wide freezes could not be given to the pipeline');
        return false;
      }
    });
    if (failed > 0) throw new Error(`the config-wide freezes could not be given to ${failed} pipelines`);
    return pipelines.filter((_, i) => changed[i]).map((p) => p.name);
  }

  private sendConfigFreezes(pipeline: string): Promise<{ changed: boolean }> {
    const input = { freezes: [...(this.options.freezes ?? [])], by: 'config' };
    return retryWhileBusy(() =>
      coordinatorHandle(this.client, pipeline).executeUpdate(setConfigFreezesUpdate, { args: [input] }),
    );
  }

  /**
   * The pipeline's definition as of at most a second ago, asked once however many triggers arrive meanwhile:
   * CHECK needs it before the execution exists, and a query per trigger would load the coordinator.
   */
  private recentDefinition(name: string): Promise<PipelineDefinition> {
    const cached = this.definitions.get(name);
    if (cached && Date.now() - cached.at < 1_000) return cached.definition;
    const definition = retryWhileBusy(() => this.getPipeline(name)).then((p) => p.definition);
    this.definitions.set(name, { at: Date.now(), definition });
    definition.catch(() => this.definitions.delete(name));
    return definition;
  }

  async getPipeline(name: string): Promise<PipelineSnapshot> {
    const snapshot = await this.client.workflow.getHandle(coordinatorWorkflowId(name)).query(pipelineQuery);
    if (snapshot.deleted) throw new HttpProblem(404, `pipeline "${name}" was deleted`);
    return snapshot;
  }

  /**
   * Every named lock: those the config declares (free ones too) and any other still held or waited for, by
   * name. Read from the `paso-named-locks` workflow; before any stage asked for a lock, all are free.
   */
  async locks(): Promise<LockInfo[]> {
    let known: LockView[] = [];
    try {
      known = await this.client.workflow.getHandle(namedLocksWorkflowId(this.taskQueue)).query(namedLocksQuery);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const declared = new Map((this.options.locks ?? []).map((l) => [l.name, l]));
    const byName = new Map(known.map((l) => [l.name, l]));
    const names = [...new Set([...declared.keys(), ...byName.keys()])].sort();
    return names.map((name) => {
      const d = declared.get(name);
      const l = byName.get(name);
      return {
        name,
        order: d?.order ?? l?.order ?? 'fifo',
        declared: d !== undefined || this.options.locks === null || this.options.locks === undefined,
        description: d?.description ?? null,
        token: l?.token ?? 0,
        holders: l?.holders ?? [],
        waiters: l?.waiters ?? [],
      };
    });
  }

  async pipelineState(name: string): Promise<PipelineState> {
    await this.getPipeline(name);
    return this.client.workflow.getHandle(coordinatorWorkflowId(name)).query(pipelineStateQuery);
  }

  async setTransition(
    name: string,
    stage: string,
    enabled: boolean,
    reason: string | undefined,
    by: string,
  ): Promise<StageState> {
    return this.client.workflow
      .getHandle(coordinatorWorkflowId(name))
      .executeUpdate(setTransitionUpdate, { args: [{ stage, enabled, reason, by }] });
  }

  async deletePipeline(name: string, by: string): Promise<void> {
    await this.client.workflow.getHandle(coordinatorWorkflowId(name)).executeUpdate(deletePipelineUpdate, {
      args: [{ by }],
    });
  }

  async listPipelines(): Promise<PipelineSnapshot[]> {
    const names: string[] = [];
    // Only this deployment's pipelines: several Paso deployments may share a namespace, each on its task queue.
    const query = `WorkflowType = 'coordinator' AND ExecutionStatus = 'Running' AND PasoStatus = 'Active' AND TaskQueue = '${this.taskQueue}'`;
    for await (const wf of this.client.workflow.list({ query })) {
      const name = wf.typedSearchAttributes.get(PasoPipeline);
      if (name) names.push(name);
    }
    const snapshots = await Promise.all(
      names.map((name) =>
        this.getPipeline(name).catch((err: unknown) => {
          // Deleted or gone between the listing and the query.
          if (isGone(err)) return null;
          throw err;
        }),
      ),
    );
    return snapshots.filter((s): s is PipelineSnapshot => s !== null).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Starts an execution, or finds the one this idempotency key already started. Triggers of one key through
   * this gateway go one after the other: the second finds the execution the first started, rather than start
   * it itself while the first still holds a new id for it (the first's start would then fail as if the
   * coordinator's counter had gone back).
   */
  trigger(
    pipeline: string,
    body: TriggerBody,
    by: string,
    type: 'manual' | 'schedule' = 'manual',
  ): Promise<TriggerResult> {
    const key = body.idempotencyKey;
    if (key === undefined) return this.triggerOnce(pipeline, body, by, type);
    const slot = `${pipeline}\n${key}`;
    const run = (this.keyedTriggers.get(slot) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.triggerOnce(pipeline, body, by, type));
    this.keyedTriggers.set(slot, run);
    const forget = () => {
      if (this.keyedTriggers.get(slot) === run) this.keyedTriggers.delete(slot);
    };
    run.then(forget, forget);
    return run;
  }

  private async triggerOnce(
    pipeline: string,
    body: TriggerBody,
    by: string,
    type: 'manual' | 'schedule',
  ): Promise<TriggerResult> {
    const request = { variables: body.variables ?? {}, sourceRevisions: body.sourceRevisions ?? {} };
    const coordinator = coordinatorHandle(this.client, pipeline);
    // CHECK runs before the execution exists; a repeated idempotency key finds the execution it made.
    const repeated = body.idempotencyKey
      ? await retryWhileBusy(() => coordinator.query(executionForKeyQuery, body.idempotencyKey!))
      : null;
    if (!repeated) {
      const definition = await this.recentDefinition(pipeline);
      refuseUndeclared(definition, request.variables);
      if (definition.check.length > 0) {
        const check = await runChecks(this.client, this.taskQueue, definition, {
          ...definition.variables,
          ...request.variables,
        });
        if (check.some((c) => c.status === 'Failed')) {
          throw new HttpProblem(422, 'refused by CHECK: no execution was created', undefined, { check });
        }
      }
    }
    for (let attempt = 1; ; attempt++) {
      const allocating = Date.now();
      const allocated = await this.allocate(pipeline, {
        by,
        idempotencyKey: body.idempotencyKey,
        requestDigest: digest(request),
      });
      // The definition may have changed since CHECK read it: what the trigger sets must still be declared.
      try {
        refuseUndeclared(allocated.definition, request.variables);
      } catch (err) {
        // Give back the place the coordinator kept for the execution (QUEUED), which will not start.
        if (allocated.created) {
          await coordinatorHandle(this.client, pipeline).signal(withdrawSignal, { executionId: allocated.executionId });
        }
        throw err;
      }
      const input: ExecutionInput = {
        executionId: allocated.executionId,
        pipeline,
        pipelineVersion: allocated.pipelineVersion,
        definition: allocated.definition,
        variables: { ...allocated.definition.variables, ...request.variables },
        sourceRevisions: request.sourceRevisions,
        trigger: { type, by, at: new Date().toISOString() },
        notificationUrl: this.options.notificationUrl,
        heartbeatTimeoutSeconds: this.options.heartbeatTimeoutSeconds,
        reviewUrl: this.options.publicUrl ? `${this.options.publicUrl}/executions/${allocated.executionId}` : null,
        ...(allocated.closedStages?.length ? { closedStages: allocated.closedStages } : {}),
        ...(allocated.leavingInRequest ? { leavingInRequest: true } : {}),
      };
      const lockOrders = this.lockOrders(allocated.definition);
      if (lockOrders) input.lockOrders = lockOrders;
      if (this.options.freezes?.length) input.configFreezes = [...this.options.freezes];
      if (!allocated.created) return this.repeatedTrigger(input, allocated.at);
      try {
        await this.startExecution(input, 'FAIL');
        return { executionId: input.executionId, status: 'InProgress', created: true };
      } catch (err) {
        // A new id that is taken: the coordinator's counter went back (it was reset from Temporal). It counts
        // on from the highest execution Temporal has, and the trigger takes the next id.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError) || attempt >= 3) throw err;
        // Unless a twin of this trigger (its key, from another gateway or a client trying again) was told the
        // execution was cut short and started it first: it started after this allocation, and it is this one's.
        if (body.idempotencyKey !== undefined && (await this.startedSince(input.executionId, allocating))) {
          return { executionId: input.executionId, status: 'InProgress', created: true };
        }
        await coordinatorHandle(this.client, pipeline).signal(withdrawSignal, { executionId: input.executionId });
        const atLeast = await this.highestExecution(pipeline);
        await retryWhileBusy(() =>
          coordinatorHandle(this.client, pipeline).executeUpdate(advanceExecutionsUpdate, { args: [{ atLeast }] }),
        );
      }
    }
  }

  /**
   * Asks the coordinator for the next execution id. A coordinator terminated from Temporal is started again
   * from its last state first (it then recovers its locks from the running executions): see README.
   */
  private async allocate(pipeline: string, request: AllocateExecutionInput): Promise<AllocateExecutionResult> {
    try {
      return await this.allocations.request(pipeline, request);
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await this.revive(pipeline);
      return this.allocations.request(pipeline, request);
    }
  }

  /**
   * The requests of one batch: one `allocateExecutions` Update, or one `allocateExecution` each, in order, for
   * a lone request, a coordinator of before 0.8, or a batch refused for one of its requests (a reused
   * idempotency key, a payload out of bounds: each then gets its own answer, and only that one is refused).
   */
  private async sendAllocations(
    pipeline: string,
    requests: AllocateExecutionInput[],
  ): Promise<Settled<AllocateExecutionResult>[]> {
    const coordinator = coordinatorHandle(this.client, pipeline);
    const oneByOne = async () => {
      const settled: Settled<AllocateExecutionResult>[] = [];
      for (const request of requests) {
        try {
          const value = await retryWhileBusy(() =>
            coordinator.executeUpdate(allocateExecutionUpdate, { args: [request] }),
          );
          settled.push({ ok: true, value });
        } catch (error) {
          settled.push({ ok: false, error });
        }
      }
      return settled;
    };
    if (requests.length === 1 || (this.singleAllocations.get(pipeline) ?? 0) > Date.now()) return oneByOne();
    try {
      const { allocations, ...shared } = await retryWhileBusy(() =>
        coordinator.executeUpdate(allocateExecutionsUpdate, { args: [{ requests }] }),
      );
      return allocations.map((allocation) => ({ ok: true, value: { ...shared, ...allocation } }));
    } catch (err) {
      const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
      if (!(cause instanceof ApplicationFailure)) throw err;
      if (cause.message.startsWith('No registered handler for update')) {
        // Its worker is of before 0.8 (a rolling upgrade): ask again in a minute.
        this.singleAllocations.set(pipeline, Date.now() + 60_000);
      } else if (cause.type !== ErrorTypes.IdempotencyConflict && cause.type !== ErrorTypes.InvalidRequest) {
        throw err;
      } // else refused whole for one of its requests: each gets its own answer, only that one refused
      return oneByOne();
    }
  }

  /** Starts a coordinator whose last run ended (terminated) again from that run's definition. */
  private revive(pipeline: string): Promise<void> {
    let revival = this.revivals.get(pipeline);
    if (!revival) {
      revival = (async () => {
        const last = await this.getPipeline(pipeline); // answered from the ended run; 404 when there never was one
        await this.putPipeline(last.definition, last.updatedBy);
      })().finally(() => this.revivals.delete(pipeline));
      this.revivals.set(pipeline, revival);
    }
    return revival;
  }

  /**
   * A repeated idempotency key: the execution it started, as it is now. When Temporal does not know it, either
   * the start was cut short (a crash between allocation and start: start it now), or Temporal's retention has
   * purged it since, and it must never run again under its old id.
   */
  private async repeatedTrigger(input: ExecutionInput, firstUsed: string | undefined): Promise<TriggerResult> {
    const handle = this.client.workflow.getHandle(executionWorkflowId(input.executionId));
    try {
      const description = await handle.describe();
      const status = asStatus(description.typedSearchAttributes.get(PasoStatus), description.status.name);
      return { executionId: input.executionId, status, created: false };
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    const age = firstUsed ? Date.now() - Date.parse(firstUsed) : Infinity;
    if (age > INTERRUPTED_START_MS) {
      throw new HttpProblem(
        409,
        `this idempotencyKey started execution ${input.executionId}, which Temporal no longer keeps (its retention ` +
          'has passed); use a new key to start another execution',
      );
    }
    await this.startExecution(input, 'USE_EXISTING');
    return { executionId: input.executionId, status: 'InProgress', created: false };
  }

  /**
   * Whether the execution's workflow started at `since` or later (give or take {@link CLOCK_SLACK_MS} between
   * this host's clock and Temporal's); an execution from before a coordinator's reset started long before.
   */
  private async startedSince(executionId: string, since: number): Promise<boolean> {
    try {
      const { startTime } = await this.client.workflow.getHandle(executionWorkflowId(executionId)).describe();
      return startTime.getTime() >= since - CLOCK_SLACK_MS;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  private async startExecution(input: ExecutionInput, onConflict: 'FAIL' | 'USE_EXISTING'): Promise<void> {
    const starter = this.options.starter;
    await (starter ?? this.client).workflow.start<typeof execution>('execution', {
      requestEagerStart: starter !== undefined,
      workflowId: executionWorkflowId(input.executionId),
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: onConflict,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: PasoPipeline, value: input.pipeline },
        { key: PasoStatus, value: 'InProgress' },
      ],
      staticSummary: `Execution ${input.executionId} of pipeline ${input.pipeline} (v${input.pipelineVersion})`,
    });
  }

  /** How many running executions without `PasoWaiting` `GET /waiting` also reads. */
  get waitingScan(): number {
    return this.options.waitingScan ?? DEFAULT_WAITING_SCAN;
  }

  /**
   * The ids of this deployment's running executions across pipelines that match `where` (a visibility query),
   * the oldest `limit` of them, oldest first: what the console looks through for decisions people may make.
   * Temporal lists newest first, so this reads the ids of up to {@link RUNNING_LIST_CAP} (cheap: no execution
   * is read) and keeps the oldest.
   */
  async runningExecutions(limit: number, where = ''): Promise<string[]> {
    const query =
      `WorkflowType = 'execution' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.taskQueue}'` +
      (where ? ` AND ${where}` : '');
    const found: { id: string; start: number }[] = [];
    for await (const wf of this.client.workflow.list({ query, pageSize: 1000 })) {
      const id = wf.workflowId;
      if (parseExecutionId(id)) found.push({ id, start: wf.startTime.getTime() });
      if (found.length >= RUNNING_LIST_CAP) break;
    }
    return found
      .sort((a, b) => a.start - b.start)
      .slice(0, limit)
      .map((f) => f.id);
  }

  /** The highest execution number Temporal's visibility store knows for the pipeline. */
  private async highestExecution(pipeline: string): Promise<number> {
    let highest = 0;
    const query = `WorkflowType = 'execution' AND PasoPipeline = '${pipeline}'`;
    for await (const wf of this.client.workflow.list({ query })) {
      highest = Math.max(highest, parseExecutionId(wf.workflowId)?.n ?? 0);
    }
    return highest;
  }

  async stop(executionId: string, request: Omit<StopInput, 'by'>, actor: User): Promise<ExecutionOutcome> {
    authorize(actor, 'operator');
    return this.updateExecution(executionId, stopUpdate, { ...request, by: actor.name });
  }

  /**
   * An admin lets an execution waiting for a shut deployment window or freeze into `stage` now (409 when it
   * does not wait for that, or the stage is locked), recorded on the execution.
   */
  async passWindow(executionId: string, stage: string, reason: string, actor: User): Promise<ExecutionOutcome> {
    authorize(actor, 'admin');
    const view = await this.getExecution(executionId);
    if (view.waiting?.stage !== stage || view.waiting.for !== 'WINDOW') {
      throw new HttpProblem(409, `${executionId} does not wait for the window of "${stage}"`);
    }
    await this.client.workflow
      .getHandle(coordinatorWorkflowId(view.pipeline))
      .executeUpdate(passWindowUpdate, { args: [{ executionId, stage, reason, by: actor.name }] });
    return { executionId, status: view.status };
  }

  async retry(executionId: string, request: Omit<RetryInput, 'by'>, actor: User): Promise<ExecutionOutcome> {
    authorize(actor, 'operator');
    return this.updateExecution(executionId, retryUpdate, { ...request, by: actor.name });
  }

  // Manual steps: who may decide is the action's business (approvers, a pause's `allowed`), checked by the
  // execution itself; Paso vouches for the person's name, groups and roles.

  async approve(executionId: string, decision: Omit<ApprovalDecision, keyof Decider>, actor: User) {
    authorize(actor, 'viewer');
    return this.updateExecution(executionId, decideApprovalUpdate, { ...decision, ...deciderOf(actor) });
  }

  async resume(executionId: string, decision: Omit<ResumeDecision, keyof Decider>, actor: User) {
    authorize(actor, 'viewer');
    return this.updateExecution(executionId, decideResumeUpdate, { ...decision, ...deciderOf(actor) });
  }

  async decideTrap(executionId: string, decision: Omit<TrapDecision, keyof Decider>, actor: User) {
    authorize(actor, 'operator');
    return this.updateExecution(executionId, decideTrapUpdate, { ...decision, ...deciderOf(actor) });
  }

  /**
   * Runs a configured Talkback command on behalf of the execution (CONTRACT.md section 6): only the items
   * of the config file, only for the people and groups each allows. The execution runs it as an activity
   * and reports its output (to its chat channels, and as an annotation); this answers once it has started.
   */
  async runTalkback(executionId: string, name: string, actor: User): Promise<TalkbackRun> {
    const item = this.options.talkback.find((t) => t.name === name);
    if (!item) {
      const known = this.options.talkback.map((t) => t.name);
      throw new HttpProblem(
        404,
        `no Talkback command "${name}"` + (known.length ? ` (configured: ${known.join(', ')})` : ' (none configured)'),
      );
    }
    if (!item.allowed.users.includes(actor.name) && !item.allowed.groups.some((g) => actor.groups.includes(g))) {
      throw new HttpProblem(403, `${actor.name} may not run the Talkback command "${name}"`);
    }
    const answer: unknown = await this.updateExecution(executionId, runTalkbackUpdate, {
      name: item.name,
      run: item.run,
      timeoutSeconds: item.timeoutSeconds,
      by: actor.name,
      ...(item.secrets?.length ? { secrets: item.secrets } : {}),
    });
    // A worker of Paso 0.1 (during a rolling upgrade) answers with the whole view.
    return isView(answer) ? answer.talkback.at(-1)! : (answer as TalkbackRun);
  }

  /** Binds a chat channel to the execution (ChatOps); binding the same channel again changes nothing. */
  async bindChannel(executionId: string, channel: ChannelRef, actor: User): Promise<ExecutionOutcome> {
    authorize(actor, 'viewer');
    return this.updateExecution(executionId, bindChannelUpdate, { ...channel, by: actor.name });
  }

  /** The execution a chat channel is bound to, from Temporal's visibility store (null when none is). */
  async executionOfChannel(channelId: string): Promise<string | null> {
    if (!/^[A-Z0-9]+$/i.test(channelId)) return null;
    const query = `WorkflowType = 'execution' AND PasoChannels = '${channelId}' AND TaskQueue = '${this.taskQueue}'`;
    for await (const wf of this.client.workflow.list({ query, pageSize: 1 })) return wf.workflowId;
    return null;
  }

  /**
   * Sends a person's decision to an execution. Its validators refuse what is not allowed now (409); an
   * execution whose workflow has ended (its retry window closed) takes no decision at all (409 too).
   */
  private async updateExecution<R, I>(executionId: string, update: UpdateDefinition<R, [I]>, input: I): Promise<R> {
    const handle = this.executionHandle(executionId);
    try {
      return await handle.executeUpdate(update, { args: [input] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) throw err;
      const description = await handle.describe(); // a missing execution throws WorkflowNotFoundError: 404
      if (description.status.name !== 'RUNNING')
        throw new HttpProblem(409, whyFinal(await handle.query(executionQuery)));
      throw err;
    }
  }

  async getExecution(executionId: string): Promise<ExecutionView> {
    try {
      const handle = this.executionHandle(executionId);
      return await showRunningWorkers(handle, await handle.query(executionQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpProblem(404, `no execution "${executionId}"`);
      throw err;
    }
  }

  /** The execution's workflow; an id that cannot be an execution's is a 404 before Temporal is asked. */
  private executionHandle(executionId: string) {
    if (!parseExecutionId(executionId)) throw new HttpProblem(404, `no execution "${executionId}"`);
    return this.client.workflow.getHandle(executionWorkflowId(executionId));
  }

  /**
   * A page of the pipeline's executions, newest first (by execution number, which grows with time), from
   * Temporal's visibility store (so it may lag a running execution by a moment). It reads windows of ids
   * below the cursor, never the whole pipeline: at most {@link LIST_WINDOWS} windows per page, so a rare
   * `status` may give a short page with a `nextCursor` to go on from.
   */
  async listExecutions(
    pipeline: string,
    options: { status?: ExecutionStatus; limit: number; cursor?: number | undefined },
  ): Promise<{ executions: ExecutionSummary[]; nextCursor: string | null }> {
    const { executionsStarted } = await this.getPipeline(pipeline);
    const found: ExecutionSummary[] = [];
    let top = Math.min(options.cursor ? options.cursor - 1 : executionsStarted, executionsStarted);
    for (let window = 0; top >= 1 && found.length < options.limit && window < LIST_WINDOWS; window++) {
      const bottom = Math.max(1, top - LIST_WINDOW_IDS + 1);
      const ids = Array.from({ length: top - bottom + 1 }, (_, i) => `'${executionIdOf(pipeline, top - i)}'`);
      let query = `WorkflowType = 'execution' AND WorkflowId IN (${ids.join(', ')})`;
      if (options.status) query += ` AND PasoStatus = '${options.status}'`;
      const got: ExecutionSummary[] = [];
      for await (const wf of this.client.workflow.list({ query, pageSize: LIST_WINDOW_IDS })) got.push(summarize(wf));
      got.sort((a, b) => numberOf(b.executionId) - numberOf(a.executionId));
      const wanted = got.slice(0, options.limit - found.length);
      found.push(...wanted);
      // Went through the window, or stopped inside it after the last one taken.
      top = wanted.length < got.length ? numberOf(wanted.at(-1)!.executionId) - 1 : bottom - 1;
    }
    return { executions: found, nextCursor: top >= 1 ? executionCursor.encode(top + 1) : null };
  }
}

/**
 * Temporal's answers that pass within moments: RESOURCE_EXHAUSTED (too many in-flight Updates on one
 * workflow, e.g. from several gateways at once) and FAILED_PRECONDITION (the workflow's task failed, as it
 * does when new messages arrive while a coordinator continues-as-new; the task is retried at once).
 */
const RETRIED_CODES = [GRPC_RESOURCE_EXHAUSTED, GRPC_FAILED_PRECONDITION];

/**
 * Runs `fn`, and again after a short, growing, jittered pause while Temporal answers one of the
 * {@link RETRIED_CODES}: the Update is quick, so it goes through within milliseconds. Gives up after about
 * two seconds.
 */
async function retryWhileBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!RETRIED_CODES.includes(grpcCode(err) ?? -1) || attempt >= 12) throw err;
      await new Promise((r) => setTimeout(r, Math.min(400, 10 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

/** Why an execution whose workflow has ended takes no more decisions. */
function whyFinal(view: ExecutionView): string {
  if (view.overtakenBy)
    return `the execution ${view.status}; a newer execution (${view.overtakenBy}) has entered its stage since`;
  if (view.status === 'Failed' || view.status === 'Stopped') {
    return `the execution ${view.status} and can no longer be retried (its retry window closed)`;
  }
  return `the execution has ended (${view.status})`;
}

function summarize(wf: WorkflowExecutionInfo): ExecutionSummary {
  return {
    executionId: wf.workflowId,
    pipeline: wf.typedSearchAttributes.get(PasoPipeline) ?? '',
    status: asStatus(wf.typedSearchAttributes.get(PasoStatus), wf.status.name),
    stage: wf.typedSearchAttributes.get(PasoStage) ?? null,
    startedAt: wf.startTime.toISOString(),
    endedAt: wf.closeTime?.toISOString() ?? null,
  };
}

/**
 * The execution status Paso recorded; when a workflow was ended from outside Paso (terminated, timed out)
 * its last recorded status is stale, so Temporal's own status decides.
 */
function asStatus(recorded: string | undefined, temporalStatus = 'RUNNING'): ExecutionStatus {
  if (temporalStatus === 'TERMINATED' || temporalStatus === 'CANCELLED' || temporalStatus === 'TIMED_OUT') {
    return 'Cancelled';
  }
  return (EXECUTION_STATUSES as readonly string[]).includes(recorded ?? '')
    ? (recorded as ExecutionStatus)
    : 'InProgress';
}

function deciderOf(actor: User): Decider {
  return { by: actor.name, groups: [...actor.groups], roles: [...actor.roles] };
}

function isGone(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (err instanceof HttpProblem && err.status === 404);
}

function digest(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

/**
 * A trigger may set only the variables its pipeline declares (with their defaults): anything else could
 * change how commands behave in ways the pipeline's authors never planned for.
 */
function refuseUndeclared(definition: PipelineDefinition, variables: Record<string, string>): void {
  const declared = Object.keys(definition.variables);
  const undeclared = Object.keys(variables).filter((name) => !declared.includes(name));
  if (undeclared.length === 0) return;
  const known = declared.length > 0 ? `declared: ${declared.join(', ')}` : 'it declares none';
  throw new HttpProblem(
    400,
    'the request is not valid',
    undeclared.map((name) => ({
      path: `variables.${name}`,
      message: `pipeline "${definition.name}" does not declare this variable (${known})`,
    })),
  );
}

function coordinatorHandle(client: Client, pipeline: string) {
  return client.workflow.getHandle(coordinatorWorkflowId(pipeline));
}

function isView(answer: unknown): answer is ExecutionView {
  return typeof answer === 'object' && answer !== null && 'talkback' in answer;
}

/**
 * Which worker runs each command in progress: the execution learns it only when the command ends, Temporal
 * knows it from the command's heartbeats (which carry the stage and action) at no cost to the history.
 */
async function showRunningWorkers(handle: WorkflowHandle, view: ExecutionView): Promise<ExecutionView> {
  const running = view.stages.flatMap((s) =>
    s.actions.filter((a) => a.type === 'command' && a.status === 'InProgress' && a.waitingFor === null),
  );
  if (running.length === 0) return view;
  const { raw } = await handle.describe();
  for (const pending of raw.pendingActivities ?? []) {
    const payload = pending.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const where = defaultPayloadConverter.fromPayload<{ worker?: string; stage?: string; action?: string }>(payload);
    const stage = view.stages.find((s) => s.name === where.stage);
    const action = stage?.actions.find((a) => a.name === where.action && a.status === 'InProgress');
    if (action) action.worker = pending.lastWorkerIdentity || where.worker || action.worker;
  }
  return view;
}
