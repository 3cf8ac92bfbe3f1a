/**
 * `npm run bench:chatops`: how fast the Slack events endpoint answers (Slack wants an answer within 3 s and
 * retries otherwise), and how long chat work takes behind it. Starts its own dev server, a Paso worker and
 * gateway in this process, and the fake Slack Web API the tests use. Prints the figures; asserts nothing.
 *
 *  1. acknowledgement time of 200 chat messages in a bound channel, one at a time and 20 at once, and how
 *     long until all of them are recorded as annotations
 *  2. `@paso status`: event sent → answer posted in Slack (20 one after another)
 *  3. `@paso approve`: event sent → the execution's "Succeeded" post in Slack
 */
import { createHmac } from 'node:crypto';
import { FAKE_SLACK_BOT_TOKEN, FAKE_SLACK_BOT_USER, startFakeSlack } from '../test/support/fake-slack.js';
import type { FakeMessage } from '../test/support/fake-slack.js';
import { benchPaso, benchServer, pct, runBench, sleep } from './support.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 20);
const TOKEN = 'bench-admin-token';
const SECRET = 'bench-signing-secret';
const USER = 'U0BENCH';

const ms = (values: number[]) =>
  `p50 ${pct(values, 50).toFixed(1)} ms, p99 ${pct(values, 99).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;

async function main() {
  const { work, server } = await benchServer('chatops');
  const slack = await startFakeSlack();
  const paso = await benchPaso(server, work, 'bench-chatops', {
    users: [{ name: 'bench', token: TOKEN, roles: ['admin'], slack: USER }],
    slack: { signingSecret: SECRET, botToken: FAKE_SLACK_BOT_TOKEN, apiUrl: `${slack.url}/api` },
  });
  const { base } = paso;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  let serial = 0;
  /** Sends one signed message event; resolves with the time the gateway took to answer. */
  const say = async (channel: string, text: string): Promise<number> => {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++serial).padStart(6, '0')}`;
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: `EvBench${serial}`,
      event: { type: 'message', user: USER, channel, text, ts },
    });
    const now = Math.floor(Date.now() / 1000);
    const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${now}:${body}`).digest('hex')}`;
    const t0 = performance.now();
    const r = await fetch(`${base}/chatops/slack/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(now),
        'x-slack-signature': signature,
      },
      body,
    });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`events endpoint answered ${r.status}`);
    return performance.now() - t0;
  };
  const messages = async () => (await (await fetch(`${slack.url}/_fake/messages`)).json()) as FakeMessage[];
  const waitForPost = async (channel: string, fragment: string, after = 0) => {
    for (;;) {
      const found = (await messages()).slice(after).find((m) => m.channel === channel && m.text.includes(fragment));
      if (found) return performance.now();
      await sleep(5);
    }
  };

  const put = await fetch(`${base}/pipelines/chat`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({
      name: 'chat',
      stages: [
        {
          name: 'Release',
          actions: [{ name: 'go', type: 'approval', approvers: { users: ['bench'] }, allowSelfApproval: true }],
        },
      ],
    }),
  });
  if (!put.ok) throw new Error(`PUT pipeline: ${put.status} ${await put.text()}`);
  const triggered = await fetch(`${base}/pipelines/chat/executions`, { method: 'POST', headers, body: '{}' });
  const { executionId } = (await triggered.json()) as { executionId: string };

  const lobby = (
    (await (
      await fetch(`${slack.url}/_fake/channels`, {
        method: 'POST',
        body: JSON.stringify({ name: 'lobby', members: [FAKE_SLACK_BOT_USER, USER] }),
      })
    ).json()) as { id: string }
  ).id;
  await say(lobby, `<@${FAKE_SLACK_BOT_USER}> add #job-${executionId}`);
  await waitForPost(lobby, 'now follows');
  const channel = /<#(C\w+)>/.exec((await messages()).find((m) => m.text.includes('now follows'))!.text)![1]!;

  // ---- 1. acknowledgement of plain messages ----
  const sequential: number[] = [];
  for (let i = 0; i < MESSAGES; i++) sequential.push(await say(channel, `note ${i}`));
  const burst: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i += 20) {
    burst.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => say(channel, `burst ${i + j}`)))));
  }
  const chatCount = async () =>
    (
      (await (await fetch(`${base}/executions/${executionId}/annotations`, { headers })).json()) as { kind: string }[]
    ).filter((a) => a.kind === 'chat').length;
  while ((await chatCount()) < 2 * MESSAGES) await sleep(20);
  const recordedIn = performance.now() - t0;

  // ---- 2. status round trip ----
  const roundTrips: number[] = [];
  for (let i = 0; i < COMMANDS; i++) {
    const before = (await messages()).length;
    const start = performance.now();
    await say(channel, `<@${FAKE_SLACK_BOT_USER}> status`);
    roundTrips.push((await waitForPost(channel, 'is *InProgress*', before)) - start);
  }

  // ---- 3. approve → the end posted ----
  const before = (await messages()).length;
  const approveAt = performance.now();
  await say(channel, `<@${FAKE_SLACK_BOT_USER}> approve`);
  const endPosted = (await waitForPost(channel, `*${executionId}* Succeeded`, before)) - approveAt;

  console.log(`ChatOps on this machine (${MESSAGES} messages, ${COMMANDS} commands):`);
  console.log(`  events endpoint, one message at a time: ${ms(sequential)}`);
  console.log(`  events endpoint, 20 messages at once:   ${ms(burst)}`);
  console.log(
    `  the 20-at-once messages all recorded as annotations: ${(recordedIn / 1000).toFixed(2)} s after the first was sent`,
  );
  console.log(`  @paso status → answer posted: ${ms(roundTrips)}`);
  console.log(`  @paso approve → "Succeeded" posted by the execution: ${endPosted.toFixed(0)} ms`);

  await paso.stop();
  await slack.close();
  await server.stop();
}

runBench(main);
