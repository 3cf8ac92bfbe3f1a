/**
 * Paso's own Prometheus metrics (prom-client), one registry per process, every definition here. Names follow
 * Prometheus' conventions: units in names, `_total` counters, histograms for durations. Labels are
 * low-cardinality: pipeline, stage, status, kind, result, route. Never an execution id, a user or an action.
 *
 * Where each comes from (workflows do no I/O, so nothing is measured inside them):
 * - the worker's activities (commands, notifications, chat posts) measure themselves;
 * - a workflow interceptor that only reads (`workflow-interceptors.ts`) reports, through a sink that runs
 *   outside the sandbox and never during replay, executions starting and reaching an end status and stage
 *   grants (`sinks.ts`);
 * - the gateway measures HTTP requests (`http.ts`), Slack Web API calls (`slack.ts` wraps the client) and
 *   decisions on manual steps (`client-interceptor.ts`);
 * - gauges of what is waiting and locked now are read from Temporal at scrape time, cached for a few
 *   seconds (`state-collector.ts`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'paso_process_' });

/** Seconds to hours: commands, waits for people and locks range from a second to days. */
const LONG_SECONDS = [1, 5, 15, 60, 300, 900, 1_800, 3_600, 4 * 3_600, 12 * 3_600, 24 * 3_600, 72 * 3_600];
/** Sub-second work: HTTP requests, a hand-off through the coordinator. */
const SHORT_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// Executions (worker: the workflow interceptor's sink).
export const executionsStarted = new Counter({
  name: 'paso_executions_started_total',
  help: 'Executions started, by pipeline and trigger type (manual, schedule).',
  labelNames: ['pipeline', 'trigger'] as const,
  registers: [registry],
});
export const executionsEnded = new Counter({
  name: 'paso_executions_ended_total',
  help:
    'Executions that reached an end status (Succeeded, Failed, Stopped, Superseded, Cancelled), by pipeline and ' +
    'status. A failed execution that is retried and ends again counts again.',
  labelNames: ['pipeline', 'status'] as const,
  registers: [registry],
});
export const executionDuration = new Histogram({
  name: 'paso_execution_duration_seconds',
  help: 'From an execution start to its end status, by pipeline and status.',
  labelNames: ['pipeline', 'status'] as const,
  buckets: LONG_SECONDS,
  registers: [registry],
});
export const stageHandoff = new Histogram({
  name: 'paso_stage_handoff_seconds',
  help:
    'Hand-off latency: from an execution asking the coordinator for a stage to the grant reaching it, when it ' +
    'did not have to wait (the coordinator round trip), by pipeline and stage.',
  labelNames: ['pipeline', 'stage'] as const,
  buckets: SHORT_SECONDS,
  registers: [registry],
});
export const stageEntryWait = new Histogram({
  name: 'paso_stage_entry_wait_seconds',
  help:
    'From an execution asking for a stage to entering it, when it had to wait (kind: stage_lock, transition), ' +
    'by pipeline, stage and kind.',
  labelNames: ['pipeline', 'stage', 'kind'] as const,
  buckets: LONG_SECONDS,
  registers: [registry],
});

// Commands (worker: runInWorkspace).
export const commandDuration = new Histogram({
  name: 'paso_command_duration_seconds',
  help:
    'Commands run by workers, by pipeline, stage, kind (action, check, rollback, talkback) and result ' +
    '(succeeded, failed, timed_out, abandoned, worker_lost, refused).',
  labelNames: ['pipeline', 'stage', 'kind', 'result'] as const,
  buckets: LONG_SECONDS,
  registers: [registry],
});

// People (gateway: the client interceptor on decision updates).
export const decisionWait = new Histogram({
  name: 'paso_manual_step_decision_seconds',
  help:
    'From a manual step starting to wait (approval, pause) to a person deciding, by pipeline, kind and decision ' +
    '(approve, reject, resume). Timed-out steps are not decisions and are not counted.',
  labelNames: ['pipeline', 'kind', 'decision'] as const,
  buckets: LONG_SECONDS,
  registers: [registry],
});

// Notifications and chat (worker activities; gateway Slack client).
export const notifications = new Counter({
  name: 'paso_notifications_total',
  help: 'Notification hook posts (approval-requested, pause, trap), by event and result (ok, retried, refused).',
  labelNames: ['event', 'result'] as const,
  registers: [registry],
});
export const slackRequests = new Counter({
  name: 'paso_slack_requests_total',
  help:
    'Slack Web API calls, by source (gateway, activity), method (chat.postMessage, …) and result (ok, ' +
    'rate_limited, refused, error).',
  labelNames: ['source', 'method', 'result'] as const,
  registers: [registry],
});
export const slackRetries = new Counter({
  name: 'paso_slack_retries_total',
  help:
    'Slack calls made again: by Temporal (an execution post, attempt > 1; source activity) or by the gateway ' +
    'client after a rate limit or an outage (source gateway).',
  labelNames: ['source', 'method'] as const,
  registers: [registry],
});

// HTTP (gateway).
export const httpRequests = new Counter({
  name: 'paso_http_requests_total',
  help: 'HTTP requests to the gateway, by method, route template and status.',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});
export const httpDuration = new Histogram({
  name: 'paso_http_request_duration_seconds',
  help: 'HTTP request latency at the gateway, by method, route template and status.',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: SHORT_SECONDS,
  registers: [registry],
});

// What waits and what is locked now (gateway, read from Temporal at scrape time: state-collector.ts).
export const executionsWaiting = new Gauge({
  name: 'paso_executions_waiting',
  help: 'Executions waiting now, by pipeline and kind (approval, pause, trap, stage_lock, transition).',
  labelNames: ['pipeline', 'kind'] as const,
  registers: [registry],
});
export const executionsRunning = new Gauge({
  name: 'paso_executions_running',
  help: 'Executions whose workflow runs now, by pipeline and status (InProgress, Stopping, Failed awaiting retry…).',
  labelNames: ['pipeline', 'status'] as const,
  registers: [registry],
});
export const approvalNextExpiry = new Gauge({
  name: 'paso_approval_next_expiry_timestamp_seconds',
  help: 'When the first pending approval of the pipeline times out (Unix seconds); absent when none waits.',
  labelNames: ['pipeline'] as const,
  registers: [registry],
});
export const stageQueueDepth = new Gauge({
  name: 'paso_stage_queue_depth',
  help: 'Executions waiting in front of the stage (inbound: for its lock or its transition), by pipeline and stage.',
  labelNames: ['pipeline', 'stage'] as const,
  registers: [registry],
});
export const stageLocked = new Gauge({
  name: 'paso_stage_locked',
  help: '1 while an execution holds the stage lock, else 0, by pipeline and stage.',
  labelNames: ['pipeline', 'stage'] as const,
  registers: [registry],
});
export const stageLockHeld = new Gauge({
  name: 'paso_stage_lock_held_seconds',
  help: 'How long the execution holding the stage lock has held it (0 when unlocked), by pipeline and stage.',
  labelNames: ['pipeline', 'stage'] as const,
  registers: [registry],
});
export const stageTransitionEnabled = new Gauge({
  name: 'paso_stage_transition_enabled',
  help: '1 when the inbound transition of the stage is enabled, 0 when disabled, by pipeline and stage.',
  labelNames: ['pipeline', 'stage'] as const,
  registers: [registry],
});
export const stateScrapeErrors = new Counter({
  name: 'paso_state_scrape_errors_total',
  help: 'Reads of the pipelines state from Temporal at scrape time that failed (the gauges keep their last values).',
  registers: [registry],
});
