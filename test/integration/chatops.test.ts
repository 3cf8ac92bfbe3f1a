/**
 * ChatOps end to end: Slack events signed and POSTed to the real gateway, a real execution on the test
 * Temporal server, and a fake Slack Web API (over HTTP) that records what Paso did in Slack.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { FAKE_SLACK_BOT_USER } from '../support/fake-slack.js';
import { Gates } from '../support/gates.js';
import { PasoProcess } from '../support/paso-process.js';
import { MENTION, sign, Slack } from '../support/slack.js';

const api = new Api();
const slack = new Slack();

interface AnnotationOut {
  id: string;
  kind: string;
  by: string;
  text?: string;
  file?: { name: string; url: string };
  slack?: { user: string; channel: string; ts: string };
}

describe('the Slack events endpoint', () => {
  const body = JSON.stringify({ type: 'url_verification', challenge: 'c-123', token: 'legacy' });

  it('answers url_verification with its challenge', async () => {
    const r = await slack.post(body);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ challenge: 'c-123' });
  });

  it('refuses unsigned, forged and replayed requests with 401, before reading them', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = await slack.post(body, { 'x-slack-signature': '', 'x-slack-request-timestamp': '' });
    const forged = await slack.post(body, { 'x-slack-signature': sign(body, now, 'not-the-secret') });
    const old = now - 6 * 60;
    const replayed = await slack.post(body, {
      'x-slack-request-timestamp': String(old),
      'x-slack-signature': sign(body, old),
    });
    for (const r of [unsigned, forged, replayed]) {
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
    expect((JSON.parse(replayed.text) as { detail: string }).detail).toMatch(/more than 5 minutes/);
    // Not even a body that is not JSON is looked at without a signature.
    expect((await slack.post('{oops', { 'x-slack-signature': sign('{oops', now, 'nope') })).status).toBe(401);
  });

  it('answers a signed request that is not a Slack event with 400 and the path of the problem', async () => {
    expect((await slack.post('{oops')).status).toBe(400);
    const r = await slack.post(JSON.stringify({ event_id: 'Ev1' }));
    expect(r.status).toBe(400);
    expect((JSON.parse(r.text) as { errors: unknown }).errors).toEqual([{ path: 'type', message: expect.any(String) }]);
  });
});

describe('a Slack channel bound to an execution', () => {
  const gates = new Gates();
  const pipeline = uniqueName('chat');
  let id: string;
  let channel: string;
  let releases: string;

  beforeAll(async () => {
    await api.pipeline({
      name: pipeline,
      variables: { GREETING: 'hello' },
      stages: [
        { name: 'Build', actions: [{ name: 'build', type: 'command', run: gates.script('build', { gated: true }) }] },
        {
          name: 'Release',
          actions: [{ name: 'go', type: 'approval', message: 'Ship it?', approvers: { users: ['dave'], groups: [] } }],
        },
        { name: 'Verify', actions: [{ name: 'smoke', type: 'command', run: 'true' }] },
      ],
    });
    id = await api.trigger(pipeline);
    releases = await slack.channel(`releases-${pipeline}`, [FAKE_SLACK_BOT_USER, 'U0BOB']);
  });

  const annotations = async () => (await api.get<AnnotationOut[]>(`/executions/${id}/annotations`)).body;

  it('is created, joined and bound by `add #job-<id>`, and shown on the execution', async () => {
    await slack.say('U0BOB', releases, `${MENTION} add #job-${id}`);
    const reply = await slack.waitForMessage(releases, `now follows *${id}*`);
    expect(reply.text).toMatch(/^<@U0BOB> /);
    channel = /<#(C\w+)>/.exec(reply.text)![1]!;

    const welcome = await slack.waitForMessage(channel, 'This channel follows the execution');
    expect(welcome.text).toContain(`*${id}*`);
    const invited = (await slack.calls()).filter((c) => c.method === 'conversations.invite' && c.channel === channel);
    expect(invited.length).toBe(1);
    const view = await api.execution(id);
    expect(view.channels).toEqual([{ channel, name: `job-${id}`, by: 'bob', at: expect.any(String) }]);

    // Saying it again finds the existing channel (by listing, page by page) and binds nothing new.
    await slack.say('U0BOB', releases, `${MENTION} add #job-${id}`);
    await expect
      .poll(async () => (await slack.messages(releases)).filter((m) => m.text.includes('now follows')).length)
      .toBe(2);
    expect((await slack.messages(releases)).at(-1)!.text).toContain(`<#${channel}>`);
    expect((await api.execution(id)).channels).toHaveLength(1);
  });

  it('records what is said there as chat annotations, once each, with the Slack user and the Paso user', async () => {
    const ts = await slack.say('U0CAROL', channel, 'the canary looks healthy');
    await slack.say('U0STRANGER', channel, 'hello from outside');
    // Slack delivers an event again when it thinks it was lost: the same event id, a retry number.
    const again = { type: 'message', user: 'U0CAROL', channel, text: 'said twice?', ts: `${ts}1` };
    const eventId = await slack.event(again);
    await slack.event(again, { eventId, retry: 1 });

    await expect.poll(async () => (await annotations()).filter((a) => a.kind === 'chat').length).toBe(3);
    const chat = (await annotations()).filter((a) => a.kind === 'chat');
    expect(chat).toEqual([
      expect.objectContaining({
        by: 'carol',
        text: 'the canary looks healthy',
        slack: { user: 'U0CAROL', channel, ts },
      }),
      expect.objectContaining({ by: 'slack:U0STRANGER', text: 'hello from outside' }),
      expect.objectContaining({ by: 'carol', text: 'said twice?' }),
    ]);
    // The timeline shows them with the execution's own events.
    const timeline = (await api.get<{ type: string; text?: string }[]>(`/executions/${id}/timeline`)).body;
    expect(timeline.filter((e) => e.type === 'annotation-chat').map((e) => e.text)).toContain('hello from outside');
  });

  it('hears when the approval starts waiting', async () => {
    gates.open(id, 'build');
    const post = await slack.waitForMessage(channel, 'waits for approval');
    expect(post.text).toContain('*Release › go*');
    expect(post.text).toContain('Ship it?');
    expect(post.text).toContain(`/executions/${id}`);
  });

  it('answers `status` with what waits for whom', async () => {
    await slack.say('U0BOB', channel, `${MENTION} status`);
    const reply = await slack.waitForMessage(channel, `<@U0BOB> :arrows_counterclockwise: *${id}*`);
    expect(reply.text).toContain('is *InProgress*');
    expect(reply.text).toContain('*Release › go* waits for approval');
  });

  it('refuses an unmapped person and an unauthorised one, saying why, and changes nothing', async () => {
    await slack.say('U0STRANGER', channel, `${MENTION} approve`);
    const unknown = await slack.waitForMessage(channel, '<@U0STRANGER> :no_entry:');
    expect(unknown.text).toContain('I do not know who you are in Paso');
    expect(unknown.text).toContain('`slack: U0STRANGER`');

    // Carol is a viewer, not an approver: the same refusal as the HTTP API gives her.
    const http = await api.as('carol').post<{ detail: string }>(`/executions/${id}/approvals`, {
      stage: 'Release',
      action: 'go',
      decision: 'approve',
    });
    expect(http.status).toBe(403);
    await slack.say('U0CAROL', channel, `${MENTION} approve lgtm`);
    const refused = await slack.waitForMessage(channel, '<@U0CAROL> :no_entry: not allowed');
    expect(refused.text).toContain(http.body.detail);
    // Nor may a viewer stop it.
    await slack.say('U0CAROL', channel, `${MENTION} stop`);
    expect((await slack.waitForMessage(channel, 'needs the operator role')).text).toMatch(/^<@U0CAROL> :no_entry:/);

    const view = await api.execution(id);
    expect(view.status).toBe('InProgress');
    expect(view.stages[1]!.actions[0]!.approvals).toEqual([]);
  });

  it('runs a configured Talkback command for a permitted person, posts and annotates its output', async () => {
    await slack.say('U0CAROL', channel, `${MENTION} run checkup`);
    expect((await slack.waitForMessage(channel, 'may not run')).text).toMatch(/^<@U0CAROL> :no_entry:/);
    await slack.say('U0BOB', channel, `${MENTION} run reboot-everything`);
    const unknown = await slack.waitForMessage(channel, 'no Talkback command');
    expect(unknown.text).toContain('"reboot-everything" (configured: checkup, whoami)');

    await slack.say('U0BOB', channel, `${MENTION} run checkup`);
    await slack.waitForMessage(channel, 'running Talkback `checkup` (tb-1)');
    const output = await slack.waitForMessage(channel, 'Talkback `checkup` (tb-1, run by bob) Succeeded');
    expect(output.text).toContain(`checkup of ${id} for bob: hello`);

    const view = await api.execution(id);
    expect(view.talkback).toEqual([
      expect.objectContaining({ id: 'tb-1', name: 'checkup', by: 'bob', status: 'Succeeded', exitCode: 0 }),
    ]);
    await expect.poll(async () => (await annotations()).some((a) => a.kind === 'log')).toBe(true);
    const log = (await annotations()).find((a) => a.kind === 'log')!;
    expect(log).toMatchObject({ by: 'bob', text: expect.stringContaining(`checkup of ${id} for bob: hello`) });
    const file = await api.get(log.file!.url);
    expect(file.text).toContain(`checkup of ${id} for bob: hello`);
    const timeline = (await api.get<{ type: string; by?: string }[]>(`/executions/${id}/timeline`)).body;
    expect(timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['channel-bound', 'talkback-started', 'talkback-succeeded']),
    );
  });

  it('takes an approval from a mapped approver, and gets the end out through a rate limit', async () => {
    // Slack will refuse the first try of the final post with 429, asking for 2 seconds.
    await slack.refuse({
      method: 'chat.postMessage',
      textIncludes: `*${id}* Succeeded`,
      count: 1,
      status: 429,
      retryAfter: 2,
    });
    await slack.say('U0DAVE', channel, `${MENTION} approve ship it`);
    await slack.waitForMessage(channel, '<@U0DAVE> approved *Release › go*');

    const view = await api.waitFor(id, ['Succeeded']);
    expect(view.stages[1]!.actions[0]!.approvals).toEqual([
      { by: 'dave', decision: 'approve', comment: 'ship it', at: expect.any(String) },
    ]);
    // The mention came as app_mention and as message: it was carried out once.
    expect((await slack.messages(channel)).filter((m) => m.text.includes('approved *Release › go*'))).toHaveLength(1);

    const end = await slack.waitForMessage(channel, `*${id}* Succeeded`);
    expect((await slack.messages(channel)).filter((m) => m.text === end.text)).toHaveLength(1);
    const tries = (await slack.calls()).filter((c) => c.text?.includes(`*${id}* Succeeded`));
    expect(tries.map((c) => c.status)).toEqual([429, 200]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(2_000);
  });
});

describe('decisions from a bound channel', () => {
  it('resumes a pause, decides a trap, and retries the failed stage, with a Slack outage on the way', async () => {
    const gates = new Gates();
    const pipeline = uniqueName('chat-steps');
    await api.pipeline({
      name: pipeline,
      stages: [
        {
          name: 'Hold',
          actions: [
            { name: 'hold', type: 'pause', message: 'Waiting for the window', runOrder: 1 },
            { name: 'probe', type: 'command', run: `test -e ${gates.dir}/healthy`, onError: 'trap', runOrder: 2 },
          ],
        },
        { name: 'Ship', actions: [{ name: 'ship', type: 'command', run: `test -e ${gates.dir}/ship` }] },
      ],
    });
    const id = await api.trigger(pipeline);
    const channel = await slack.bind('U0ALICE', id);
    await slack.waitForMessage(channel, 'This channel follows the execution');

    // The pause may have started before the binding: either way `resume` finds it.
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('resume');
    await slack.say('U0BOB', channel, `${MENTION} resume window is open`);
    await slack.waitForMessage(channel, '<@U0BOB> resumed *Hold › hold*');

    const trapped = await slack.waitForMessage(channel, 'failed and is trapped');
    expect(trapped.text).toContain('*Hold › probe*');
    await slack.say('U0BOB', channel, `${MENTION} retry`);
    await slack.waitForMessage(channel, '<@U0BOB> retrying *Hold › probe*');
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[1]!.attempt).toBe(2);
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[1]!.waitingFor).toBe('trap');

    // Slack is down for the next two tries of the failure's post: it arrives late, once.
    await slack.refuse({ method: 'chat.postMessage', textIncludes: `*${id}* Failed`, count: 2, status: 503 });
    await slack.say('U0BOB', channel, `${MENTION} skip nothing to see`);
    await slack.waitForMessage(channel, '<@U0BOB> skipped *Hold › probe*');
    const failed = await slack.waitForMessage(channel, `*${id}* Failed`, 30_000);
    expect(failed.text).toContain('stage Ship can be retried until');
    const tries = (await slack.calls()).filter((c) => c.text?.includes(`*${id}* Failed`)).map((c) => c.status);
    expect(tries).toEqual([503, 503, 200]);

    const view = await api.execution(id);
    expect(view.stages[0]!.actions[0]!.decisions).toEqual([
      expect.objectContaining({ by: 'bob', decision: 'resume', comment: 'window is open' }),
    ]);
    expect(view.stages[0]!.actions[1]!.decisions.map((d) => [d.by, d.decision, d.comment])).toEqual([
      ['bob', 'retry', ''],
      ['bob', 'skip', 'nothing to see'],
    ]);

    // With nothing trapped, `retry` retries the failed stage.
    writeFileSync(path.join(gates.dir, 'ship'), '');
    await slack.say('U0BOB', channel, `${MENTION} retry`);
    await slack.waitForMessage(channel, '<@U0BOB> retrying stage *Ship* (failed actions)');
    expect((await api.waitFor(id, ['Succeeded'])).stages[1]!.actions[0]!.attempt).toBe(2);
    await slack.waitForMessage(channel, `*${id}* Succeeded`);
  });

  it('stops and abandons from chat, for an operator only', async () => {
    const pipeline = uniqueName('chat-stop');
    await api.pipeline({
      name: pipeline,
      stages: [{ name: 'Long', actions: [{ name: 'sleep', type: 'command', run: 'sleep 60' }] }],
    });
    const id = await api.trigger(pipeline);
    const channel = await slack.bind('U0BOB', id);
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.status).toBe('InProgress');

    await slack.say('U0DAVE', channel, `${MENTION} stop abandon`);
    await slack.waitForMessage(channel, '<@U0DAVE> :no_entry: not allowed: this needs the operator role');
    await slack.say('U0BOB', channel, `${MENTION} stop abandon wrong build`);
    await slack.waitForMessage(channel, `<@U0BOB> stopping and abandoning ${id}`);
    const view = await api.waitFor(id, ['Stopped']);
    expect(view.stop).toMatchObject({ by: 'bob', abandon: true, reason: 'wrong build' });
    expect(view.stages[0]!.actions[0]!.status).toBe('Abandoned');
    await slack.waitForMessage(channel, `*${id}* Stopped`);
  });
});

describe('a binding, kept by the execution', () => {
  const gateways: PasoProcess[] = [];
  afterAll(async () => {
    for (const g of gateways) await g.stop();
  });
  /** A gateway process of its own: same config, same Temporal, a fresh memory. */
  const anotherGateway = async (taskQueue: string, log: string) => {
    const gateway = await PasoProcess.startGateway({
      temporalAddress: inject('temporalAddress'),
      dataDir: inject('dataDir'),
      configFile: inject('configFile'),
      taskQueue,
      logFile: path.join(inject('workDir'), log),
    });
    gateways.push(gateway);
    return new Slack(gateway.url);
  };

  it('is found by another gateway with nothing in memory, which records and decides alike', async () => {
    const pipeline = uniqueName('chat-durable');
    await api.pipeline({
      name: pipeline,
      stages: [{ name: 'Gate', actions: [{ name: 'hold', type: 'pause', message: 'until the other gateway says' }] }],
    });
    const id = await api.trigger(pipeline);
    const channel = await slack.bind('U0BOB', id);

    const elsewhere = await anotherGateway('paso-test', 'second-gateway.log');
    await elsewhere.say('U0CAROL', channel, 'seen from the second gateway');
    await elsewhere.say('U0BOB', channel, `${MENTION} resume`);
    await slack.waitForMessage(channel, '<@U0BOB> resumed *Gate › hold*');
    expect((await api.waitFor(id, ['Succeeded'])).stages[0]!.actions[0]!.decisions[0]!.by).toBe('bob');
    const chat = (await api.get<AnnotationOut[]>(`/executions/${id}/annotations`)).body.filter(
      (a) => a.kind === 'chat',
    );
    expect(chat.map((a) => [a.by, a.text])).toEqual([
      ['carol', 'seen from the second gateway'],
      ['bob', '@paso resume'],
    ]);
  });

  it("is found from the channel's name when visibility has not caught up", async () => {
    const pipeline = uniqueName('chat-lag');
    await api.pipeline({ name: pipeline, stages: [{ name: 'Gate', actions: [{ name: 'hold', type: 'pause' }] }] });
    const id = await api.trigger(pipeline);
    const channel = await slack.bind('U0BOB', id);
    // This gateway's visibility query (filtered on its task queue) finds nothing, as a lagging one would.
    const lagging = await anotherGateway('paso-test-elsewhere', 'lagging-gateway.log');
    await lagging.say('U0BOB', channel, `${MENTION} resume`);
    await slack.waitForMessage(channel, '<@U0BOB> resumed *Gate › hold*');
    expect((await api.waitFor(id, ['Succeeded'])).status).toBe('Succeeded');
  });
});
