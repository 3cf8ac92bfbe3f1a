/**
 * Every behaviour change of Paso's workflows since executions started running in production, as Temporal
 * patch ids. Executions wait for days, so a worker running new code replays histories written by old code:
 * each changed command sequence is guarded by `patched(id)`, which is false while replaying a history
 * written before the change and true from then on (see README, "Upgrading Paso"). Once no execution older
 * than a change can still be running, its `patched()` becomes `deprecatePatch()`, then goes.
 */
export const PATCHES = {
  /** A failed stage keeps its lock until its rollback has run (before: it was given back first). */
  rollbackHoldsStage: 'paso-rollback-holds-stage',
  /** A trap's `retry` decided while the execution is stopping does not start the command again. */
  noRetryWhileStopping: 'paso-no-retry-while-stopping',
  /** Coordinator: overtaking in QUEUED mode, and no older revision entering a stage after a newer one. */
  lockRules: 'paso-lock-rules-2',
  /** Coordinator: a run started afresh recovers its pipeline from Temporal before it decides anything. */
  recovery: 'paso-coordinator-recovery',
  /** Coordinator: puts and deletes run one at a time; a put's schedules are in place before it goes live. */
  schedulesFirst: 'paso-schedules-first',
  /** A cancelled group waits for all its actions to end before the lock is given back. */
  settleGroups: 'paso-settle-groups',
  /**
   * Executions: commands run in the workspace of the worker that ran the first one; Temporal never retries a
   * command; a lost worker fails the action or reruns it (`onWorkerLoss`); the heartbeat timeout comes from
   * the execution's input.
   */
  workerLoss: 'paso-worker-loss',
  // Stage concurrency (`concurrency: N`) needs no patch: no older definition can have it (the stage schema is
  // strict), and with one slot per stage the lock table sends the very signals it sent before.
  /** A stop and wait with `abandonAfterSeconds` abandons what still runs when its durable timer fires. */
  escalatingStop: 'paso-escalating-stop',
  /**
   * Transitions on PARALLEL pipelines: the coordinator tells running PARALLEL executions of a disabled
   * transition, and those ask it before entering that stage (and say when they leave it).
   */
  parallelTransitions: 'paso-parallel-transitions',
  /**
   * Deployment windows and freezes: the coordinator shuts and opens stages on a durable timer; executions
   * (PARALLEL ones too) ask before a stage that has a calendar.
   */
  deploymentWindows: 'paso-deployment-windows',
  /**
   * QUEUED and SUPERSEDED: an execution asks for its next stage before it leaves the one it is in (before: it
   * left, then asked), so the execution let into that stage behind it cannot overtake it at the next one.
   */
  askBeforeLeaving: 'paso-ask-before-leaving',
  /**
   * QUEUED and SUPERSEDED: a request for the next stage carries the stage the execution leaves (`leaving`;
   * before: a request, then a leave, and the leave could cross the coordinator's grant: two signals crossing
   * wait on each other's workflow lock in Temporal's history service, see `src/temporal/latency.ts`).
   * Executions send it when their input says their coordinator takes it, and behind this patch: a worker of
   * the previous release may have run the execution, input and all, and sent two signals. The coordinator's
   * handling is behind it too: an older coordinator drops `leaving`, and replaying that, a new one must as well.
   */
  leavingInRequest: 'paso-leaving-in-request',
  /**
   * Executions say what they wait for people to decide in the `PasoWaiting` search attribute, as a manual step
   * opens and closes. Asked only then, so an execution without a manual step records no marker for it.
   */
  waitingAttribute: 'paso-waiting-attribute',
  /**
   * An execution started on 0.7 or later records this one marker first, and every execution patch above then
   * applies without a marker of its own (`applies()` in execution.ts): one marker and one `TemporalChangeVersion`
   * upsert instead of one each per patch it meets (four in a QUEUED execution of two stages, two in a PARALLEL
   * one; more with stops, rollbacks and manual steps). Its search attributes are also written only when they
   * change, starting from those its start set (the gateway sets the pipeline and `InProgress`).
   */
  execution07: 'paso-execution-0.7',
  /**
   * A stage's last command may ask for the next stage as it ends (hand-off.ts). When it did not report (its
   * worker was lost, or it was cancelled) and the execution does not go on, the execution gives back the place
   * it may have been given. Asked only then.
   */
  handOffUnknown: 'paso-hand-off-unknown',
} as const;
