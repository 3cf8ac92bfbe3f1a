/**
 * An execution's posts to its bound chat channels (ChatOps), one Slack `chat.postMessage` per attempt.
 * Temporal does the retrying: a rate limit (429) comes back with Slack's Retry-After as the next retry's
 * delay; an outage or a network error is retried with backoff; only what Slack will never accept (the
 * channel is gone, the bot was removed, the token is wrong) is given up.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WebClient } from '@slack/web-api';
import { WebAPIPlatformError, WebAPIRateLimitedError } from '@slack/web-api';
import { decisionBlocks, type ChatDecision } from '../shared/chat-buttons.js';
import { ErrorTypes } from '../shared/messages.js';
import { slackRetries } from '../metrics/metrics.js';

export interface ChatDeps {
  /** Null when the config file has no `slack` section. */
  slack: WebClient | null;
}

export interface PostChatInput {
  channel: string;
  text: string;
  /** A manual step waiting for people: the post carries its buttons. */
  decision?: ChatDecision;
}

/** Slack's answers that no retry can change. */
const PERMANENT = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'not_authed',
  'missing_scope',
  'msg_too_long',
  'no_text',
]);

export async function postChat(deps: ChatDeps, input: PostChatInput): Promise<void> {
  if (!deps.slack) {
    throw ApplicationFailure.nonRetryable(
      'ChatOps is not configured on this worker (no `slack` in its config)',
      ErrorTypes.ChatRefused,
    );
  }
  // Each attempt is counted by the client (slack.ts); each one after the first is a retry, counted here.
  const method = 'chat.postMessage';
  if (Context.current().info.attempt > 1) slackRetries.inc({ source: 'activity', method });
  try {
    await deps.slack.chat.postMessage({
      channel: input.channel,
      text: input.text,
      unfurl_links: false,
      ...(input.decision ? { blocks: decisionBlocks(input.text, input.decision) as never } : {}),
    });
  } catch (err) {
    if (err instanceof WebAPIRateLimitedError) {
      throw ApplicationFailure.create({
        message: `Slack asked to wait ${err.retryAfter}s (rate limited)`,
        type: 'ChatRateLimited',
        nextRetryDelay: `${Math.max(1, err.retryAfter)}s`,
      });
    }
    if (err instanceof WebAPIPlatformError && PERMANENT.has(err.data.error)) {
      throw ApplicationFailure.nonRetryable(`Slack refused the post: ${err.data.error}`, ErrorTypes.ChatRefused);
    }
    throw err;
  }
}
