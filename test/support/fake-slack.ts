/**
 * A stand-in for Slack's Web API, the one third party Paso talks to that cannot run here. It speaks the real
 * protocol: `POST /api/<method>` with a form-encoded (or JSON) body and `Authorization: Bearer <bot token>`;
 * answers are JSON with `ok` and, on failure, `error`; a rate limit is HTTP 429 with `Retry-After`. It
 * keeps channels and messages in memory. Tests read and steer it over HTTP under `/_fake/`:
 *
 *   GET  /_fake/messages          every message posted, in order
 *   GET  /_fake/calls             every Web API call: method, HTTP status, time, the post's text
 *   POST /_fake/refuse            { method, textIncludes?, count, status, retryAfter? }: the next matching
 *                                 calls get that status (429 with Retry-After: a rate limit; 503: an outage)
 *   POST /_fake/channels          { name, members? }: a channel that exists before Paso asks
 *   POST /_fake/join              { channel, users }: people join a channel
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_SLACK_BOT_TOKEN = 'xoxb-test-paso';
export const FAKE_SLACK_BOT_USER = 'UPASOBOT';

export interface FakeMessage {
  channel: string;
  text: string;
  ts: string;
  thread_ts?: string;
  /** Block Kit blocks, when the post has them (buttons). */
  blocks?: unknown[];
  /** `chat.postEphemeral`: only this user sees it. */
  ephemeralTo?: string;
  /** `chat.update` changed it this many times. */
  edits?: number;
}
export interface FakeCall {
  method: string;
  status: number;
  at: number;
  text?: string;
  channel?: string;
}
interface Channel {
  id: string;
  name: string;
  members: Set<string>;
}
export interface Refusal {
  method: string;
  textIncludes?: string;
  count: number;
  status: 429 | 500 | 503;
  retryAfter?: number;
}

export async function startFakeSlack(): Promise<{ url: string; close: () => Promise<void> }> {
  const channels = new Map<string, Channel>();
  const messages: FakeMessage[] = [];
  const calls: FakeCall[] = [];
  const refusals: Refusal[] = [];
  let serial = 0;
  let tsSerial = 0;
  // Unique, increasing, in Slack's `<seconds>.<micro>` form.
  const newTs = () => `${Math.floor(Date.now() / 1000)}.${String(++tsSerial).padStart(6, '0')}`;
  // The Web API client sends `blocks` as a JSON string in form bodies, as an array in JSON bodies.
  const parseBlocks = (blocks: unknown) => (typeof blocks === 'string' ? JSON.parse(blocks) : blocks) as unknown[];
  const newChannel = (name: string, members: string[]) => {
    const channel = { id: `C${String(++serial).padStart(8, '0')}`, name, members: new Set(members) };
    channels.set(channel.id, channel);
    return channel;
  };

  const methods: Record<string, (args: Record<string, string>) => Record<string, unknown>> = {
    'auth.test': () => ({ ok: true, user_id: FAKE_SLACK_BOT_USER, bot_id: 'BPASO', team_id: 'T0PASO', user: 'paso' }),
    'conversations.create': ({ name }) => {
      if (!name || !/^[a-z0-9_-]{1,80}$/.test(name)) return { ok: false, error: 'invalid_name' };
      if ([...channels.values()].some((c) => c.name === name)) return { ok: false, error: 'name_taken' };
      const c = newChannel(name, [FAKE_SLACK_BOT_USER]);
      return { ok: true, channel: { id: c.id, name: c.name } };
    },
    'conversations.join': ({ channel }) => {
      const c = channels.get(channel ?? '');
      if (!c) return { ok: false, error: 'channel_not_found' };
      c.members.add(FAKE_SLACK_BOT_USER);
      return { ok: true, channel: { id: c.id, name: c.name } };
    },
    'conversations.invite': ({ channel, users }) => {
      const c = channels.get(channel ?? '');
      if (!c) return { ok: false, error: 'channel_not_found' };
      const ids = (users ?? '').split(',').filter(Boolean);
      if (ids.every((u) => c.members.has(u))) return { ok: false, error: 'already_in_channel' };
      for (const u of ids) c.members.add(u);
      return { ok: true, channel: { id: c.id, name: c.name } };
    },
    'conversations.info': ({ channel }) => {
      const c = channels.get(channel ?? '');
      return c ? { ok: true, channel: { id: c.id, name: c.name } } : { ok: false, error: 'channel_not_found' };
    },
    'conversations.list': ({ cursor, limit }) => {
      const all = [...channels.values()];
      const start = Number(cursor || 0);
      const size = Math.min(Number(limit || 100), 2); // small pages, so paging is exercised
      const page = all.slice(start, start + size).map((c) => ({ id: c.id, name: c.name }));
      const next = start + size < all.length ? String(start + size) : '';
      return { ok: true, channels: page, response_metadata: { next_cursor: next } };
    },
    'chat.postMessage': ({ channel, text, thread_ts, blocks }) => {
      const c = channels.get(channel ?? '');
      if (!c) return { ok: false, error: 'channel_not_found' };
      if (!c.members.has(FAKE_SLACK_BOT_USER)) return { ok: false, error: 'not_in_channel' };
      if (!text) return { ok: false, error: 'no_text' };
      const message: FakeMessage = { channel: c.id, text, ts: newTs() };
      if (thread_ts) message.thread_ts = thread_ts;
      if (blocks) message.blocks = parseBlocks(blocks);
      messages.push(message);
      return { ok: true, channel: c.id, ts: message.ts, message: { text, user: FAKE_SLACK_BOT_USER } };
    },
    'chat.update': ({ channel, ts, text, blocks }) => {
      const message = messages.find((m) => m.channel === channel && m.ts === ts && !m.ephemeralTo);
      if (!message) return { ok: false, error: 'message_not_found' };
      if (!text && !blocks) return { ok: false, error: 'no_text' };
      if (text) message.text = text;
      if (blocks) message.blocks = parseBlocks(blocks);
      message.edits = (message.edits ?? 0) + 1;
      return { ok: true, channel, ts, text: message.text };
    },
    'chat.postEphemeral': ({ channel, user, text }) => {
      const c = channels.get(channel ?? '');
      if (!c) return { ok: false, error: 'channel_not_found' };
      if (!user || !c.members.has(user)) return { ok: false, error: 'user_not_in_channel' };
      if (!text) return { ok: false, error: 'no_text' };
      const ts = newTs();
      messages.push({ channel: c.id, text, ts, ephemeralTo: user });
      return { ok: true, message_ts: ts };
    },
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

      if (url.pathname.startsWith('/_fake/')) {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        if (url.pathname === '/_fake/messages') return reply(200, messages);
        if (url.pathname === '/_fake/calls') return reply(200, calls);
        if (url.pathname === '/_fake/refuse') {
          refusals.push(body as unknown as Refusal);
          return reply(204, {});
        }
        if (url.pathname === '/_fake/join') {
          const c = channels.get(String(body.channel));
          if (!c) return reply(404, { error: 'channel_not_found' });
          for (const u of (body.users as string[] | undefined) ?? []) c.members.add(u);
          return reply(204, {});
        }
        if (url.pathname === '/_fake/channels') {
          const c = newChannel(String(body.name), (body.members as string[] | undefined) ?? []);
          return reply(201, { id: c.id, name: c.name });
        }
        return reply(404, { error: 'no such fake route' });
      }

      const method = /^\/api\/([a-zA-Z.]+)$/.exec(url.pathname)?.[1];
      if (req.method !== 'POST' || !method) return reply(404, { ok: false, error: 'unknown_method' });
      const args: Record<string, string> = req.headers['content-type']?.includes('json')
        ? (JSON.parse(raw || '{}') as Record<string, string>)
        : Object.fromEntries(new URLSearchParams(raw));
      const call: FakeCall = { method, status: 200, at: Date.now(), text: args.text, channel: args.channel };
      calls.push(call);
      if (req.headers.authorization !== `Bearer ${FAKE_SLACK_BOT_TOKEN}`) {
        return reply(200, { ok: false, error: 'invalid_auth' });
      }
      const refusal = refusals.find(
        (r) => r.count > 0 && r.method === method && (!r.textIncludes || (args.text ?? '').includes(r.textIncludes)),
      );
      if (refusal) {
        refusal.count -= 1;
        call.status = refusal.status;
        if (refusal.status === 429) {
          return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(refusal.retryAfter ?? 1) });
        }
        return res.writeHead(refusal.status, { 'content-type': 'text/plain' }).end('upstream unavailable');
      }
      const handler = methods[method];
      return reply(200, handler ? handler(args) : { ok: false, error: 'unknown_method' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
