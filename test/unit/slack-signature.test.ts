import { describe, expect, it } from 'vitest';
import { REPLAY_WINDOW_SECONDS, slackSignatureProblem } from '../../src/api/chatops/verify.js';

// Slack's documented example ("Verifying requests from Slack"): a slash command's body, its signing secret,
// timestamp and the signature Slack sent.
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
  '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const THEN_MS = Number(TIMESTAMP) * 1000;

const check = (changes: Partial<{ body: string; timestamp: string; signature: string }> = {}, nowMs = THEN_MS) =>
  slackSignatureProblem(SECRET, { body: BODY, timestamp: TIMESTAMP, signature: SIGNATURE, ...changes }, nowMs);

describe('Slack request signatures', () => {
  it("accepts Slack's documented example", () => {
    expect(check()).toBeNull();
  });

  it('refuses a changed body, another secret, or a signature of another time', () => {
    expect(check({ body: `${BODY}&x=1` })).toMatch(/does not match/);
    expect(
      slackSignatureProblem('another-secret', { body: BODY, timestamp: TIMESTAMP, signature: SIGNATURE }, THEN_MS),
    ).toMatch(/does not match/);
    expect(check({ timestamp: String(Number(TIMESTAMP) + 1) }, THEN_MS)).toMatch(/does not match/);
  });

  it('refuses missing or malformed headers before computing anything', () => {
    expect(check({ signature: '' })).toMatch(/X-Slack-Signature is missing/);
    expect(check({ signature: 'v1=' + SIGNATURE.slice(3) })).toMatch(/not a v0 signature/);
    expect(check({ timestamp: '' })).toMatch(/X-Slack-Request-Timestamp is missing/);
    expect(check({ timestamp: 'yesterday' })).toMatch(/not a Unix time/);
  });

  it('accepts a request up to five minutes old or early, and refuses replays beyond', () => {
    const window = REPLAY_WINDOW_SECONDS * 1000;
    expect(window).toBe(300_000);
    expect(check({}, THEN_MS + window)).toBeNull();
    expect(check({}, THEN_MS - window)).toBeNull();
    expect(check({}, THEN_MS + window + 1000)).toMatch(/more than 5 minutes/);
    expect(check({}, THEN_MS - window - 1000)).toMatch(/more than 5 minutes/);
  });
});
