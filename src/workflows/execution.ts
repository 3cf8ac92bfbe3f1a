/**
 * The execution workflow: one per run of a pipeline. It walks the stages in order and, within a stage, the
 * `runOrder` groups in order, the actions of a group in parallel (see `actions.ts`). Before each stage a
 * locked (non-PARALLEL) execution asks its coordinator for the stage's lock, and gives it back after.
 *
 * People act on it through Updates, validated before anything changes: `stop` (wait, or abandon: the
 * stage's cancellation scope is cancelled, so running commands are killed) and `retry` of the failed or
 * stopped stage. A failed or stopped execution waits for a retry, hibernating on a durable timer, for the
 * pipeline's retry window; then its workflow ends. The view users read is kept in {@link ExecutionState}.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  sleep,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { endText, waitingText } from '../shared/chat-text.js';
import type { SignalDefinition } from '@temporalio/common';
import type { Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { ExecutionStatus, ExecutionView } from '../shared/execution-view.js';
import type { WaitReason } from '../shared/pipeline-state.js';
import type { RequestStageInput, RetryInput } from '../shared/messages.js';
import {
  executionQuery,
  leaveStageSignal,
  lockSupersededSignal,
  locksGrantedSignal,
  locksWaitSignal,
  releaseLocksSignal,
  overtakenSignal,
  requestStageSignal,
  retryUpdate,
  stageGrantedSignal,
  stageWaitSignal,
  stopUpdate,
  supersededSignal,
  transitionClosedSignal,
  withdrawSignal,
} from '../shared/messages.js';
import { lockNeeds, namedLocksWorkflowId } from '../shared/named-locks.js';
import { coordinatorWorkflowId, PasoPipeline, PasoStage, PasoStatus, PasoWaiting } from '../shared/temporal.js';
import type { Activities } from '../activities/index.js';
import type { ActionContext } from './actions.js';
import { placeScripts } from './placement.js';
import { ignoresErrors, runAction } from './actions.js';
import { ExecutionChat } from './chat.js';
import { handOffFor, HandOffs } from './hand-off.js';
import { setCheckedSignalHandler, setCheckedUpdateHandler } from './guard.js';
import { handleDecisions } from './decisions.js';
import { ExecutionState, runOrderGroups } from './execution-state.js';
import { ManualWaits } from './manual-steps.js';
import { PATCHES } from './patches.js';
import { rollBack } from './rollback.js';
import { validateRetry, validateStop } from './stop-retry.js';

const { notify } = proxyActivities<Activities>({
  summary: 'notification hook',
  startToCloseTimeout: '30s',
  cancellationType: 'TRY_CANCEL',
  retry: { maximumAttempts: 20, maximumInterval: '1m', nonRetryableErrorTypes: ['NotificationRefused'] },
});

const { requestNamedLocks } = proxyActivities<Activities>({
  summary: "ask for the stage's named locks",
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** Where a run of the stages starts: the first stage, or the retried one (and which of its actions). */
interface Plan {
  from: number;
  only?: Set<string>;
  /** The first stage is a retry of a failed or stopped one. */
  retry?: boolean;
}

/** How a run of the stages ended; `retryStage` is set when that stage may be retried. */
interface End {
  status: Extract<ExecutionStatus, 'Succeeded' | 'Failed' | 'Stopped' | 'Superseded'>;
  error?: string;
  retryStage?: string;
  /** The failed stage whose lock is still held, so that the rollback runs before the next execution enters. */
  heldStage?: string;
  /** The failed stage whose named locks are still held, for the same reason. */
  heldLocks?: string;
}

export async function execution(input: ExecutionInput): Promise<ExecutionView> {
  const now = () => new Date().toISOString();
  const state = new ExecutionState(input, now());
  // Started on 0.7 or later: every execution patch before it applies, with this one marker (asked first, once:
  // replaying an older history it is false, and each change keeps its own marker). Only for the patches up to
  // 0.7: a change made after it asks `patched()` itself.
  const release07 = patched(PATCHES.execution07);
  const applies = (patch: string): boolean => release07 || patched(patch);
  placeScripts(input, (workspace) => state.workspaceMoved(workspace), applies);
  const stages = input.definition.stages;
  const coordinator = getExternalWorkflowHandle(coordinatorWorkflowId(input.pipeline));
  // PARALLEL executions are independent: no locks, no queues, so they never ask the coordinator, but before
  // a stage whose transition they were told is disabled (when they were given their id, or since).
  const locked = input.definition.executionMode !== 'PARALLEL';
  const closedStages = new Set(input.closedStages ?? []);
  /** It asked the coordinator for a stage (always, unless PARALLEL): it may have a place to give back. */
  let consulted = locked;
  let granted: string | null = null;
  let superseded = false;
  let supersededBy: string | null = null;
  let stageScope: CancellationScope | null = null;
  /** The durable timer of a stop and wait that abandons later (`abandonAfterSeconds`). */
  let abandonTimer: CancellationScope | null = null;
  let retryRequest: RetryInput | null = null;
  const overtaken = new Map<string, string>();
  const namedLocks = getExternalWorkflowHandle(namedLocksWorkflowId(workflowInfo().taskQueue));
  /** It asked for named locks: it may hold some to give back. */
  let askedLocks = false;
  /** The named locks granted for a stage, with their fencing tokens. */
  let lockGrant = null as { stage: string; tokens: Record<string, number> } | null;
  /** The stage whose named locks it is asking for now: answers about any other are stale. */
  let asking = null as string | null;
  const chat = new ExecutionChat(input, state, now);
  /** What `PasoWaiting` says now: its kinds joined (empty: unset). */
  let waitingPublished = '';
  /** The stage's lock given on by its last command as it ends (see hand-off.ts). */
  const handOffs = new HandOffs();
  /** The coordinator's answer to that command's request, while the stage it gives on has not ended. */
  let earlyWait = null as { stage: string; reason: WaitReason; opensAt?: string | null } | null;
  const manual = new ManualWaits(
    input.trigger.by,
    (stage, action) => state.knowsAction(stage, action),
    // What it waits for people to decide, for `GET /waiting` (patched: executions that waited before did not say),
    // written only when it changes (two approvals opening together say `approval` once).
    (kinds) => {
      const value = kinds.join(' ');
      if (value === waitingPublished || !applies(PATCHES.waitingAttribute)) return;
      waitingPublished = value;
      upsertSearchAttributes([{ key: PasoWaiting, value: kinds.length ? kinds : null }]);
    },
  );
  let rejected = false;
  // Notifications go out in the background; the workflow waits for them only before it ends.
  const notifications: Promise<unknown>[] = [];
  const ctx: ActionContext = {
    input,
    state,
    now,
    manual,
    abandoning: () => state.stopRequest?.abandon === true,
    rejected: () => void (rejected = true),
    lockTokens: () => lockGrant?.tokens ?? {},
    applies,
    handOffs,
    notify: (event) => {
      const kind = event.event === 'trap' ? 'trap' : event.event === 'pause' ? 'resume' : 'approval';
      chat.post(() => waitingText(state.view(), event.stage, event.action, input.reviewUrl ?? null), {
        executionId: input.executionId,
        stage: event.stage,
        action: event.action,
        kind,
      });
      if (!input.notificationUrl) return;
      const body = {
        ...event,
        pipeline: input.pipeline,
        execution: input.executionId,
        reviewUrl: input.reviewUrl ?? null,
      };
      notifications.push(notify({ hookUrl: input.notificationUrl, body }).catch(() => undefined));
    },
  };

  /** The search attributes last written (from 0.7: those the start set first), to write only a change. */
  let published = release07 ? attributesAtStart() : null;
  const publish = () => {
    const current = `${input.pipeline}\n${state.status}\n${state.currentStage ?? ''}`;
    if (current === published) return;
    if (release07) published = current;
    upsertSearchAttributes([
      { key: PasoPipeline, value: input.pipeline },
      { key: PasoStatus, value: state.status },
      { key: PasoStage, value: state.currentStage },
    ]);
  };

  setHandler(executionQuery, () => state.view());
  handleDecisions(state, manual, now);
  setCheckedSignalHandler(stageGrantedSignal, 'stageGranted', ({ stage, pass }) => {
    if (pass && granted !== stage) state.windowPassed(stage, pass);
    granted = stage;
  });
  setCheckedSignalHandler(stageWaitSignal, 'stageWait', ({ stage, for: reason, opensAt }) => {
    if (granted === stage) return;
    // Asked for by the command giving on the stage it is in: inbound once that stage has ended, not before.
    if (handOffs.asks(stage)) earlyWait = { stage, reason, opensAt };
    else state.inbound(stage, reason, opensAt);
  });
  setCheckedSignalHandler(supersededSignal, 'superseded', ({ by }) => {
    superseded = true;
    supersededBy = by;
  });
  setCheckedSignalHandler(locksGrantedSignal, 'locksGranted', (grant) => {
    if (grant.stage === asking) lockGrant = grant;
  });
  setCheckedSignalHandler(locksWaitSignal, 'locksWait', ({ stage, lock, heldBy }) => {
    if (stage === asking && lockGrant?.stage !== stage) state.waitsForLock(stage, lock, heldBy);
  });
  setCheckedSignalHandler(lockSupersededSignal, 'lockSuperseded', ({ stage, by }) => {
    if (stage !== asking) return;
    superseded = true;
    supersededBy = by;
  });
  setCheckedSignalHandler(transitionClosedSignal, 'transitionClosed', ({ stage }) => void closedStages.add(stage));
  setCheckedSignalHandler(overtakenSignal, 'overtaken', ({ stage, by }) => {
    overtaken.set(stage, by);
    if (state.retryableStage === stage) {
      state.notRetryable(by);
      publish();
    }
  });
  setCheckedUpdateHandler(
    stopUpdate,
    'stop',
    ({ abandon, reason, by, abandonAfterSeconds }) => {
      const at = now();
      const later = !abandon && abandonAfterSeconds !== undefined && applies(PATCHES.escalatingStop);
      const abandonAt = later ? new Date(Date.parse(at) + abandonAfterSeconds * 1000).toISOString() : null;
      state.stopping({ by, abandon, reason: reason ?? null, at, abandonAt });
      publish();
      if (abandon) {
        cancelAbandonTimer();
        stageScope?.cancel();
      }
      if (later) abandonTimer = abandonAfter(abandonAfterSeconds);
      return state.outcome();
    },
    (request) => validateStop(state, request),
  );
  setCheckedUpdateHandler(
    retryUpdate,
    'retry',
    (request) => {
      retryRequest = request;
      return state.outcome();
    },
    (request) => validateRetry(state, request),
  );

  publish();
  try {
    let plan: Plan = { from: 0 };
    for (;;) {
      rejected = false;
      const end = await runStages(plan);
      if (rollsBack(end)) {
        setCurrentDetails('Rolling back');
        const held = end.heldLocks && lockGrant?.stage === end.heldLocks ? lockGrant.tokens : {};
        await rollBack(input, state, now, held);
      }
      if (end.heldLocks) await releaseLocks(end.heldLocks);
      if (end.heldStage) await leaveStage(end.heldStage, 'Failed');
      // What the stop waited for has ended: nothing is left to abandon.
      cancelAbandonTimer();
      state.finish(end.status, now(), end.error ?? null);
      setCurrentDetails(end.error ? `${end.status}: ${end.error}` : end.status);
      publish();
      const retryable = end.retryStage ? offerRetry(end.retryStage) : false;
      chat.post(() => endText(state.view(), input.reviewUrl ?? null));
      const retry = retryable ? await awaitRetry() : null;
      if (!retry) break;
      const only = retry.mode === 'FAILED_ACTIONS' ? new Set(state.unfinishedActions(retry.stage)) : undefined;
      plan = { from: stages.findIndex((s) => s.name === retry.stage), only, retry: true };
      state.resume();
      publish();
    }
  } catch (err) {
    // Cancelled from the Temporal UI or CLI: give back the lock at once rather than wait for the watcher.
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        // Best effort: a coordinator that is gone has no lock to give back (its successor reads who runs).
        if (consulted) {
          await coordinator.signal(withdrawSignal, { executionId: input.executionId }).catch(() => undefined);
        }
        if (askedLocks) {
          await namedLocks.signal(releaseLocksSignal, { executionId: input.executionId }).catch(() => undefined);
        }
        state.abandonRunning(now());
        state.finish('Cancelled', now(), 'cancelled from Temporal');
        manual.closeAll(); // nobody is asked anything any more (PasoWaiting)
        publish();
        chat.post(() => endText(state.view(), input.reviewUrl ?? null));
        await chat.close();
      });
    }
    throw err;
  }

  await Promise.all(notifications);
  await chat.close();
  await condition(allHandlersFinished);
  return state.view();

  async function runStages(plan: Plan): Promise<End> {
    /** The stage it asked for already, as it left the one before. */
    let asked: string | null = null;
    for (let i = plan.from; i < stages.length; i++) {
      const stage = stages[i]!;
      // A stop between stages leaves nothing to retry: no stage failed or was cut short.
      if (state.stopRequest) {
        if (asked) await toCoordinator(withdrawSignal, { executionId: input.executionId });
        return { status: 'Stopped' };
      }
      // PARALLEL: only in front of a stage whose transition is disabled or that has a calendar (no lock: it
      // just passes the gate).
      const asks =
        locked ||
        (closedStages.has(stage.name) && applies(PATCHES.parallelTransitions)) ||
        (hasCalendar(stage) && applies(PATCHES.deploymentWindows));
      if (asks) {
        consulted = true;
        const entry = await enterStage(stage.name, i === plan.from && plan.retry === true, asked === stage.name);
        asked = null;
        if (entry !== 'granted') return { status: entry };
      }
      if (stage.locks) {
        const taken = await takeNamedLocks(stage);
        if (taken !== 'granted') {
          // It held the stage's own lock while it waited: give it back, as one that never entered.
          if (asks) await toCoordinator(withdrawSignal, { executionId: input.executionId });
          return { status: taken };
        }
      }
      state.stageStarted(stage.name, now());
      publish();
      const only = i === plan.from ? plan.only : undefined;
      armHandOff(stage, i, only);
      const result = await runStage(stage, only);
      state.stageEnded(stage.name, result.status, now());
      const handed = handOffs.take(stage.name);
      const answered = earlyWait;
      earlyWait = null;
      // The next execution enters once this one's rollback is over, never while it undeploys.
      const hold = locked && rollsBack(result) && applies(PATCHES.rollbackHoldsStage);
      // Named locks are new (no older history has them): they are held through a rollback whatever the mode,
      // and given back first (a coordinator out of reach must not keep other pipelines waiting).
      const holdLocks = stage.locks !== undefined && rollsBack(result);
      if (stage.locks && !holdLocks) await releaseLocks(stage.name);
      // QUEUED and SUPERSEDED: it asks for the next stage before it leaves this one, so the next execution,
      // let into this stage by its leaving, can never reach the next stage's queue ahead of it.
      // Where its coordinator takes it, the leave goes in the same signal as the request: two signals in a row
      // could cross the coordinator's answer to the first, and crossing signals wait on each other in Temporal.
      // Patched too: during a rolling upgrade a worker of the previous release may have run this execution (its
      // input from a new gateway) and sent the two signals; a new worker replaying that must send them too.
      const next = stages[i + 1];
      let left = false;
      if (handed?.result === 'sent' && result.status === 'Succeeded' && !state.stopRequest) {
        // Its last command gave the stage on as it ended, with the signal below (hand-off.ts).
        left = true;
        if (next) asked = next.name;
        if (next && answered?.stage === next.name && granted !== next.name) {
          state.inbound(next.name, answered.reason, answered.opensAt);
        }
      } else if (
        locked &&
        result.status === 'Succeeded' &&
        next &&
        !state.stopRequest &&
        applies(PATCHES.askBeforeLeaving)
      ) {
        left = input.leavingInRequest === true && applies(PATCHES.leavingInRequest);
        await askForStage(next.name, false, left ? { stage: stage.name, outcome: result.status } : undefined);
        asked = next.name;
      }
      // Left already by its command, the coordinator takes this as the stage's outcome only (the stage's next
      // execution may be in); it is not the holder any more.
      if (asks && !hold && !left) await leaveStage(stage.name, result.status);
      // The command asked for the next stage, which this execution does not go on to now (it stopped, or it
      // failed as its worker was lost after the command): its place there is given back. Not known whether the
      // command sent it (no report), it is given back all the same (behind a patch: this was not done before).
      if (handed?.askedNext && !left && (handed.result === 'sent' || patched(PATCHES.handOffUnknown))) {
        await toCoordinator(withdrawSignal, { executionId: input.executionId });
      }
      if (result.status !== 'Succeeded') {
        return {
          ...result,
          retryStage: stage.name,
          ...(hold ? { heldStage: stage.name } : {}),
          ...(holdLocks ? { heldLocks: stage.name } : {}),
        };
      }
    }
    return { status: 'Succeeded' };
  }

  /**
   * Signals the coordinator, and again with backoff (up to a minute apart, durable timers) while it cannot
   * be reached: a coordinator terminated from Temporal comes back on the pipeline's next PUT or trigger, and
   * this execution then goes on, instead of failing its workflow task forever.
   */
  async function toCoordinator<T>(signal: SignalDefinition<[T]>, payload: T): Promise<void> {
    for (let seconds = 5; ; seconds = Math.min(seconds * 2, 60)) {
      try {
        return await coordinator.signal(signal, payload);
      } catch (err) {
        if (isCancellation(err)) throw err;
        log.warn(`signal ${signal.name} to the coordinator of ${input.pipeline} failed; again in ${seconds}s`);
        setCurrentDetails(`The coordinator of pipeline ${input.pipeline} cannot be reached: retrying`);
        await sleep(seconds * 1000);
      }
    }
  }

  /**
   * Stop and wait, escalating: once `seconds` have passed (a durable timer) with the execution still
   * stopping, the running actions are abandoned as by stop and abandon. Cancelled when the stop ends first.
   */
  function abandonAfter(seconds: number): CancellationScope {
    const scope = new CancellationScope();
    scope
      .run(() => sleep(seconds * 1000))
      .then(
        () => {
          if (state.status !== 'Stopping' || state.stopRequest?.abandon !== false || state.rollingBack) return;
          state.abandonStop();
          publish();
          stageScope?.cancel();
        },
        () => undefined,
      );
    return scope;
  }

  function cancelAbandonTimer(): void {
    abandonTimer?.cancel();
    abandonTimer = null;
  }

  /**
   * Arms the hand-off of `stage` when its last run-order group (of the `only` actions, on a retry) is a lone
   * command that may give the stage on (hand-off.ts). Executions from before 0.7 never do: what they asked
   * `patched()` must be asked at the same points.
   */
  function armHandOff(stage: Stage, index: number, only: Set<string> | undefined): void {
    if (!locked || !release07) return;
    const last = groupsToRun(stage, only).at(-1);
    const action = last?.length === 1 ? last[0]! : null;
    if (action?.type !== 'command') return;
    const handOff = handOffFor({
      input,
      coordinator: coordinatorWorkflowId(input.pipeline),
      stage,
      action,
      next: stages[index + 1] ?? null,
      leavingInRequest: input.leavingInRequest === true,
      stopping: state.stopRequest !== null,
    });
    if (!handOff) return;
    // A grant of the next stage from before (asked, then given back as it stopped) is not this one's.
    if (handOff.signal === 'requestStage') granted = null;
    handOffs.arm(stage.name, action.name, handOff);
  }

  /** The stage's windows or the pipeline's (or the config's) freezes decide when it may be entered. */
  function hasCalendar(stage: Stage): boolean {
    const freezes = (input.definition.freezes?.length ?? 0) + (input.configFreezes?.length ?? 0);
    return stage.windows !== undefined || freezes > 0;
  }

  /** A failure rolls back when the pipeline says so, unless it was a rejection (Clarive). */
  function rollsBack(end: { status: string }): boolean {
    return end.status === 'Failed' && !rejected && input.definition.rollbackOnFailure;
  }

  async function leaveStage(stage: string, outcome: 'Succeeded' | 'Failed' | 'Stopped'): Promise<void> {
    await toCoordinator(leaveStageSignal, { executionId: input.executionId, stage, outcome });
  }

  /**
   * Asks the coordinator for the stage's lock (and leaves `leaving`, once asked); its answer (`stageGranted`,
   * `stageWait`, `superseded`) comes later.
   */
  async function askForStage(stage: string, retry: boolean, leaving?: RequestStageInput['leaving']): Promise<void> {
    granted = null;
    await toCoordinator(requestStageSignal, {
      executionId: input.executionId,
      stage,
      ...(retry ? { retry } : {}),
      ...(leaving ? { leaving } : {}),
    });
  }

  /**
   * Asks the coordinator for the stage's lock (unless it asked already, as it left the stage before) and waits,
   * inbound, for it. A stop while waiting takes the execution off the waiting list at once (and gives back a
   * lock granted meanwhile).
   */
  async function enterStage(
    stage: string,
    retry: boolean,
    askedAlready = false,
  ): Promise<'granted' | 'Superseded' | 'Stopped'> {
    if (!askedAlready) await askForStage(stage, retry);
    await condition(() => granted === stage || superseded || state.stopRequest !== null);
    if (superseded) {
      // A retry refused: a newer execution has entered the stage since (the seed: it supersedes this one).
      if (retry && supersededBy) state.notRetryable(supersededBy);
      return 'Superseded';
    }
    if (state.stopRequest) {
      await toCoordinator(withdrawSignal, { executionId: input.executionId });
      return 'Stopped';
    }
    return 'granted';
  }

  /**
   * Takes every named lock the stage names, at once, or waits for all of them (`waiting.for: "LOCK"`), after
   * the stage's own lock. A stop while waiting takes the request back; a newer execution waiting for a
   * `newest-first` lock supersedes this one.
   */
  async function takeNamedLocks(stage: Stage): Promise<'granted' | 'Superseded' | 'Stopped'> {
    askedLocks = true;
    lockGrant = null as typeof lockGrant;
    asking = stage.name;
    state.waitsForLock(stage.name, lockNeeds(stage.locks)[0]!.name);
    const orders = input.lockOrders ?? {};
    const request = () =>
      requestNamedLocks({
        executionId: input.executionId,
        stage: stage.name,
        createdAt: input.trigger.at,
        locks: lockNeeds(stage.locks).map((need) => ({ ...need, order: orders[need.name] ?? 'fifo' })),
      });
    await request();
    const answered = () => lockGrant?.stage === stage.name || superseded || state.stopRequest !== null;
    // Asked again now and then (1 min, doubling to an hour; the locks repeat their answer), so that a request or
    // an answer lost with a terminated locks workflow is made again, at a cost of a few events a day.
    for (let minutes = 1; !(await condition(answered, `${minutes}m`)); minutes = Math.min(minutes * 2, 60)) {
      await request();
    }
    asking = null;
    if (lockGrant?.stage === stage.name && !superseded && !state.stopRequest) return 'granted';
    await releaseLocks(stage.name);
    lockGrant = null;
    return superseded ? 'Superseded' : 'Stopped';
  }

  /** Gives the stage's named locks back (and forgets its request). A lock workflow that is gone holds nothing. */
  async function releaseLocks(stage: string): Promise<void> {
    await namedLocks.signal(releaseLocksSignal, { executionId: input.executionId, stage }).catch((err: unknown) => {
      if (isCancellation(err)) throw err;
    });
    if (lockGrant?.stage === stage) lockGrant = null;
  }

  /** Runs a stage's groups in order (only the `only` actions, on a retry of failed actions). */
  async function runStage(
    stage: Stage,
    only: Set<string> | undefined,
  ): Promise<{ status: 'Succeeded' | 'Failed' | 'Stopped'; error?: string }> {
    const scope = new CancellationScope();
    stageScope = scope;
    try {
      return await scope.run(async () => {
        for (const actions of groupsToRun(stage, only)) {
          // Stop and wait: what runs finishes, nothing further starts.
          if (state.stopRequest) break;
          setCurrentDetails(`Stage ${stage.name}: ${actions.map((a) => a.name).join(', ')}`);
          // Every action of a group runs to its end, even when a sibling fails (as in CodePipeline).
          // (The patch is asked after the actions start: older histories have its marker after their commands.)
          const results = await settleAll(
            actions.map(async (action) => ({ action, error: await runAction(ctx, stage, action) })),
            applies(PATCHES.settleGroups),
          );
          if (state.stopRequest) break;
          const fatal = results.filter(({ action, error }) => error && !ignoresErrors(action));
          if (fatal.length > 0) {
            return {
              status: 'Failed' as const,
              error: fatal.map(({ action, error }) => `${stage.name}/${action.name}: ${error}`).join('; '),
            };
          }
        }
        return { status: state.stopRequest ? ('Stopped' as const) : ('Succeeded' as const) };
      });
    } finally {
      stageScope = null;
    }
  }

  /** Whether `stage` may be retried now (not once a newer execution overtook it); shown on the view. */
  function offerRetry(stage: string): boolean {
    const by = overtaken.get(stage);
    if (by) {
      state.notRetryable(by);
      publish();
      return false;
    }
    const windowSeconds = input.definition.retryWindowSeconds;
    state.retryable(stage, new Date(Date.now() + windowSeconds * 1000).toISOString());
    publish();
    retryRequest = null;
    return true;
  }

  /** Hibernates until a retry is asked for, a newer execution overtakes it, or the retry window closes. */
  async function awaitRetry(): Promise<RetryInput | null> {
    const windowSeconds = input.definition.retryWindowSeconds;
    await condition(() => retryRequest !== null || state.retryableStage === null, `${windowSeconds}s`);
    if (retryRequest === null || state.retryableStage === null) {
      state.notRetryable();
      publish();
      return null;
    }
    return retryRequest;
  }
}

/** The run-order groups of `stage` a run goes through, in order: of the `only` actions (a retry), none empty. */
function groupsToRun(stage: Stage, only: Set<string> | undefined): Stage['actions'][] {
  return runOrderGroups(stage.actions)
    .map((group) => (only ? group.filter((a) => only.has(a.name)) : group))
    .filter((group) => group.length > 0);
}

/** What `publish()` compares with first: the search attributes the execution's start set. */
function attributesAtStart(): string {
  const attributes = workflowInfo().typedSearchAttributes;
  return [PasoPipeline, PasoStatus, PasoStage].map((key) => attributes.get(key) ?? '').join('\n');
}

/**
 * Like `Promise.all`, but when one rejects (the workflow is cancelled) it first waits for the others to end,
 * so that the lock is given back only once no command of the group still runs (`settle` false: `Promise.all`,
 * as histories from before PATCHES.settleGroups did).
 */
async function settleAll<T>(promises: Promise<T>[], settle: boolean): Promise<T[]> {
  if (!settle) return Promise.all(promises);
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}
