/**
 * Paso's Slack Web API client (`@slack/web-api`), for the gateway (answers to chat commands, creating and
 * joining channels) and for workers (an execution's posts to its bound channels). The base URL comes from the
 * config file (`slack.apiUrl`), so a deployment or a test can point it elsewhere. Every call is counted
 * (`paso_slack_requests_total` by source, method, result) and the client logs through Paso's logger.
 */
import type { Logger as SlackLogger, RetryOptions, WebAPICallResult } from '@slack/web-api';
import { LogLevel, WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import type { PasoConfig } from './config.js';
import { logger } from './log.js';
import { slackRequests, slackRetries } from './metrics/metrics.js';

export type SlackSettings = NonNullable<PasoConfig['slack']>;
type Source = 'gateway' | 'activity';

/** The `result` label of a Slack call that failed. */
export function slackResult(err: unknown): 'rate_limited' | 'refused' | 'error' {
  if (err instanceof WebAPIRateLimitedError) return 'rate_limited';
  if (err instanceof WebAPIPlatformError) return 'refused';
  return 'error';
}

/** Slack's client logging (errors only) into Paso's logger. */
function slackLogger(source: Source): SlackLogger {
  const log = logger.child({ component: 'slack', source });
  let level = LogLevel.ERROR;
  return {
    debug: (...msg: unknown[]) => log.debug(msg.map(String).join(' ')),
    info: (...msg: unknown[]) => log.info(msg.map(String).join(' ')),
    warn: (...msg: unknown[]) => log.warn(msg.map(String).join(' ')),
    error: (...msg: unknown[]) => log.error(msg.map(String).join(' ')),
    setLevel: (l: LogLevel) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

class MeasuredWebClient extends WebClient {
  constructor(
    token: string,
    options: ConstructorParameters<typeof WebClient>[1],
    private readonly source: Source,
  ) {
    super(token, options);
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<WebAPICallResult> {
    try {
      const result = await super.apiCall(method, options);
      slackRequests.inc({ source: this.source, method, result: 'ok' });
      return result;
    } catch (err) {
      slackRequests.inc({ source: this.source, method, result: slackResult(err) });
      throw err;
    }
  }
}

/**
 * The gateway's retries. The client hands them to p-retry, which also calls `onFailedAttempt` (not in the
 * client's type) for each failed attempt it will try again: a rate limit waited out, an outage.
 */
const GATEWAY_RETRIES: RetryOptions & { onFailedAttempt(): void } = {
  retries: 4,
  factor: 2,
  minTimeout: 500,
  maxTimeout: 10_000,
  onFailedAttempt: () => slackRetries.inc({ source: 'gateway', method: 'any' }),
};

/**
 * `gateway`: a rate limit (429) is waited out as Slack's Retry-After asks, a few times, then given up.
 * `activity`: nothing is retried here; a rate limit is reported at once (with its Retry-After), so that
 * Temporal, not a sleeping worker, waits before the next attempt.
 */
export function slackClient(settings: SlackSettings, mode: Source): WebClient {
  return new MeasuredWebClient(
    settings.botToken,
    {
      slackApiUrl: settings.apiUrl,
      logger: slackLogger(mode),
      logLevel: LogLevel.ERROR,
      timeout: 10_000,
      rejectRateLimitedCalls: mode === 'activity',
      retryConfig: mode === 'activity' ? { retries: 0 } : GATEWAY_RETRIES,
      // Never let a method name that is a whole URL send the bot token somewhere else.
      allowAbsoluteUrls: false,
    },
    mode,
  );
}
