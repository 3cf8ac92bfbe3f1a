/**
 * Server settings for the Temporal servers Paso starts itself (the embedded dev server, `npm run cluster`),
 * and recommended for a cluster (README "Scaling out").
 *
 * Every hop of an execution goes through the history service's transfer queue: dispatching a workflow task,
 * an activity, a signal to another workflow. The reader of that queue is rate limited per shard by
 * `history.transferProcessorMaxPollRPS`, 20 by default (go.temporal.io/server 1.29: service/history/queues
 * reader.go waits on it before each read, burst 20). Once its burst is spent, each read waits 50 ms: two
 * activities in a row were ~100 ms apart and a signal → next workflow's activity hop ~190 ms, whatever the
 * storage. The dev server has one shard, so everything shares that one bucket.
 *
 * Eager activity execution (`system.enableActivityEagerExecution`, off by default) lets the history service
 * hand an activity that a workflow task schedules on the worker's own task queue straight back with the
 * task's completion, skipping the transfer queue and matching for it; the SDK asks for it by default.
 *
 * One partition per task queue (4 by default): a worker has two non-sticky pollers, so a task written to a
 * partition nobody polls waits to be forwarded (at most 10 a second, matching's forwarder): after a burst of
 * starts a signal → workflow task step was seen taking 1.3–1.4 s. Paso's task queues are small; a busy cluster
 * raises these again.
 *
 * Two workflows signalling each other at the same moment (an execution leaving a stage as its coordinator
 * grants it the next one) deadlock in the history service: the transfer task that delivers a signal holds
 * the sender's lock while it waits for the receiver's (go.temporal.io/server 1.29: service/history
 * transfer_queue_active_task_executor.go, processSignalExecution), so each delivery waits for the other until
 * a background call gives up on a lock, after `history.cacheNonUserContextLockTimeout` (500 ms by default),
 * and is retried. Measured on 30 QUEUED executions of three stages: 12 of 180 signals took about a second to
 * arrive, and the executions' p90 was 1.6 s; with 25 ms, 1 of 180 took over 100 ms (121 ms) and the p90 was
 * 0.66 s. Only calls that do not come from the API wait on that timeout (background work such as delivering a
 * signal, and operator calls; API calls have their own), and a background task that gives up is retried at
 * once; 300 triggers at once ran as fast with it (cache.go, GetOrCreateWorkflowExecution).
 */
export const LOW_LATENCY_DYNAMIC_CONFIG: Record<string, unknown> = {
  'history.transferProcessorMaxPollRPS': 1000,
  'system.enableActivityEagerExecution': true,
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
  // Room for several gateways' allocations at once on a coordinator (PASO_UPDATES_IN_FLIGHT each; default 10).
  'history.maxInFlightUpdates': 50,
  // Crossing signals deadlock on the two workflows' locks until one delivery gives up (above).
  'history.cacheNonUserContextLockTimeout': '25ms',
};
