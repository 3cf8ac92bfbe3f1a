/**
 * The Slack side of ChatOps tests: events signed and POSTed to the gateway as Slack sends them, and the fake
 * Web API's record of what Paso did there.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { expect, inject } from 'vitest';
import type { FakeCall, FakeMessage, Refusal } from './fake-slack.js';
import { FAKE_SLACK_BOT_USER } from './fake-slack.js';
import { TEST_SLACK_SIGNING_SECRET } from './users.js';

export const MENTION = `<@${FAKE_SLACK_BOT_USER}>`;

export function sign(body: string, timestamp: number, secret = TEST_SLACK_SIGNING_SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export class Slack {
  private serial = 0;

  constructor(
    private readonly pasoUrl: string = inject('pasoUrl'),
    readonly fakeUrl: string = inject('slackUrl'),
  ) {}

  /** POSTs a body to the events endpoint, signed now unless told otherwise. */
  async post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(`${this.pasoUrl}/chatops/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': sign(body, timestamp),
        ...headers,
      },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  /**
   * `user` clicks the button `decision` (`approve`, `skip`, …) of a post, as Slack sends a `block_actions`
   * interaction: form-encoded `payload`, signed.
   */
  async click(user: string, message: FakeMessage, decision: string, options: { signature?: string } = {}) {
    const buttons = (message.blocks ?? []).flatMap((b) => (b as { elements?: unknown[] }).elements ?? []);
    const button = buttons.find((e) => (e as { action_id?: string }).action_id === `paso:${decision}`) as
      { action_id: string; value: string } | undefined;
    if (!button) throw new Error(`the post has no ${decision} button: ${JSON.stringify(message.blocks)}`);
    const payload = {
      type: 'block_actions',
      user: { id: user, team_id: 'T0PASO' },
      team: { id: 'T0PASO' },
      channel: { id: message.channel },
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel },
      message: { ts: message.ts, text: message.text, blocks: message.blocks },
      actions: [
        { type: 'button', action_id: button.action_id, value: button.value, action_ts: `${Date.now() / 1000}` },
      ],
      response_url: `${this.fakeUrl}/actions/response`,
      trigger_id: `trig-${++this.serial}`,
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(`${this.pasoUrl}/chatops/slack/interactions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': options.signature ?? sign(body, timestamp),
      },
      body,
    });
    return { status: res.status, text: await res.text() };
  }

  /** Sends an event callback; returns its event id. */
  async event(event: Record<string, unknown>, options: { eventId?: string; retry?: number } = {}): Promise<string> {
    const eventId = options.eventId ?? `Ev${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const body = JSON.stringify({ type: 'event_callback', team_id: 'T0PASO', event_id: eventId, event });
    const headers: Record<string, string> = options.retry
      ? { 'x-slack-retry-num': String(options.retry), 'x-slack-retry-reason': 'http_timeout' }
      : {};
    const r = await this.post(body, headers);
    expect(r.status).toBe(200);
    return eventId;
  }

  /**
   * Somebody says `text` in `channel`. As Slack does, a message that mentions the bot arrives twice: as an
   * `app_mention` and as a `message`. Returns the message's timestamp.
   */
  async say(user: string, channel: string, text: string): Promise<string> {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.serial).padStart(6, '0')}`;
    const event = { type: 'message', channel_type: 'channel', user, channel, text, ts, event_ts: ts };
    if (text.includes(MENTION)) await this.event({ ...event, type: 'app_mention' });
    await this.event(event);
    return ts;
  }

  /** `user` binds a new `#job-<executionId>` from a channel of their own; returns the bound channel's id. */
  async bind(user: string, executionId: string): Promise<string> {
    const lobby = await this.channel(`lobby-${executionId}-${++this.serial}`, [FAKE_SLACK_BOT_USER, user]);
    await this.say(user, lobby, `${MENTION} add #job-${executionId}`);
    const reply = await this.waitForMessage(lobby, `now follows *${executionId}*`);
    return /<#(C\w+)>/.exec(reply.text)![1]!;
  }

  /** People join a channel (to click its buttons, they must be in it). */
  async join(channel: string, users: string[]): Promise<void> {
    const res = await fetch(`${this.fakeUrl}/_fake/join`, { method: 'POST', body: JSON.stringify({ channel, users }) });
    expect(res.status).toBe(204);
  }

  async messages(channel?: string): Promise<FakeMessage[]> {
    const all = (await (await fetch(`${this.fakeUrl}/_fake/messages`)).json()) as FakeMessage[];
    return channel ? all.filter((m) => m.channel === channel) : all;
  }

  async calls(): Promise<FakeCall[]> {
    return (await (await fetch(`${this.fakeUrl}/_fake/calls`)).json()) as FakeCall[];
  }

  /** Waits for a message in `channel` whose text contains `fragment`, and returns it. */
  async waitForMessage(channel: string, fragment: string, timeoutMs = 20_000): Promise<FakeMessage> {
    let found: FakeMessage | undefined;
    await expect
      .poll(
        async () => {
          found = (await this.messages(channel)).find((m) => m.text.includes(fragment));
          return found !== undefined;
        },
        { timeout: timeoutMs, interval: 100 },
      )
      .toBe(true);
    return found!;
  }

  /** The next `count` matching calls are refused with `status` (429: rate limited; 5xx: an outage). */
  async refuse(refusal: Refusal): Promise<void> {
    await fetch(`${this.fakeUrl}/_fake/refuse`, { method: 'POST', body: JSON.stringify(refusal) });
  }

  async channel(name: string, members: string[] = []): Promise<string> {
    const r = await fetch(`${this.fakeUrl}/_fake/channels`, {
      method: 'POST',
      body: JSON.stringify({ name, members }),
    });
    return ((await r.json()) as { id: string }).id;
  }
}
