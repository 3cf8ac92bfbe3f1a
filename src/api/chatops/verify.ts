/**
 * Slack request signing (CONTRACT.md section 6): `X-Slack-Signature` is `v0=` and the hex HMAC-SHA256, keyed
 * with the app's signing secret, of `v0:{X-Slack-Request-Timestamp}:{raw body}`. The HMAC and its constant-
 * time comparison are `@slack/bolt`'s; Paso adds the checks Bolt leaves out: both headers present and
 * well-formed, and a timestamp within five minutes either way (Bolt rejects only old ones).
 */
import { verifySlackRequest } from '@slack/bolt';

/** How far a request's timestamp may be from now: older requests are replays, and are refused. */
export const REPLAY_WINDOW_SECONDS = 5 * 60;

export interface SignedRequest {
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
}

/** Why a request is refused, or null when it is Slack's. */
export function slackSignatureProblem(
  signingSecret: string,
  request: SignedRequest,
  nowMs: number = Date.now(),
): string | null {
  if (!request.timestamp || !/^\d{1,12}$/.test(request.timestamp)) {
    return 'X-Slack-Request-Timestamp is missing or not a Unix time';
  }
  if (!request.signature || !/^v0=[0-9a-f]{64}$/.test(request.signature)) {
    return 'X-Slack-Signature is missing or not a v0 signature';
  }
  const timestamp = Number(request.timestamp);
  if (Math.abs(nowMs / 1000 - timestamp) > REPLAY_WINDOW_SECONDS) {
    return `X-Slack-Request-Timestamp is more than ${REPLAY_WINDOW_SECONDS / 60} minutes from now (a replay?)`;
  }
  try {
    verifySlackRequest({
      signingSecret,
      body: request.body,
      headers: { 'x-slack-signature': request.signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds: nowMs,
    });
  } catch {
    return 'X-Slack-Signature does not match the request';
  }
  return null;
}
