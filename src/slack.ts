/**
 * Paso's Slack Web API client (`@slack/web-api`), for the gateway (answers to chat commands, creating and
 * joining channels) and for workers (an execution's posts to its bound channels). The base URL comes from the
 * config file (`slack.apiUrl`), so a deployment or a test can point it elsewhere.
 */
import { LogLevel, WebClient } from '@slack/web-api';
import type { PasoConfig } from './config.js';

export type SlackSettings = NonNullable<PasoConfig['slack']>;

/**
 * `gateway`: a rate limit (429) is waited out as Slack's Retry-After asks, a few times, then given up.
 * `activity`: nothing is retried here; a rate limit is reported at once (with its Retry-After), so that
 * Temporal, not a sleeping worker, waits before the next attempt.
 */
export function slackClient(settings: SlackSettings, mode: 'gateway' | 'activity'): WebClient {
  return new WebClient(settings.botToken, {
    slackApiUrl: settings.apiUrl,
    logLevel: LogLevel.ERROR,
    timeout: 10_000,
    rejectRateLimitedCalls: mode === 'activity',
    retryConfig: mode === 'activity' ? { retries: 0 } : { retries: 4, factor: 2, minTimeout: 500, maxTimeout: 10_000 },
    // Never let a method name that is a whole URL send the bot token somewhere else.
    allowAbsoluteUrls: false,
  });
}
