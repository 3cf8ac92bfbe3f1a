/**
 * The notification hook: when a manual step starts waiting, Paso POSTs a JSON document to the configured
 * URL (like CodePipeline's SNS message for approvals), so that mail or chat can be wired to it. An activity
 * with retries: a hook that is down delays the message and never blocks the pipeline.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { notifications } from '../metrics/metrics.js';

export interface NotifyEvent {
  event: 'approval-requested' | 'pause' | 'trap';
  pipeline: string;
  execution: string;
  stage: string;
  action: string;
  message: string | null;
  url: string | null;
  expiresAt: string;
  /** Where a person reviews and decides: the execution in the gateway. */
  reviewUrl: string | null;
}

export interface NotifyInput {
  hookUrl: string;
  body: NotifyEvent;
}

/** Measured: `paso_notifications_total` by event and result (ok; retried: Temporal tries again; refused). */
export async function notify(input: NotifyInput): Promise<void> {
  const event = input.body.event;
  let response: Response;
  try {
    response = await fetch(input.hookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'paso' },
      body: JSON.stringify(input.body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    notifications.inc({ event, result: 'retried' });
    throw err;
  }
  if (response.status >= 500 || response.status === 429) {
    notifications.inc({ event, result: 'retried' });
    throw new Error(`notification hook answered ${response.status}`); // retried
  }
  if (!response.ok) {
    notifications.inc({ event, result: 'refused' });
    throw ApplicationFailure.nonRetryable(`notification hook refused it: ${response.status}`, 'NotificationRefused');
  }
  notifications.inc({ event, result: 'ok' });
}
