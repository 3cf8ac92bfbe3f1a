/**
 * Slack buttons on the posts of waiting steps: a click (a signed `block_actions` interaction) decides as the
 * Paso user mapped to the clicker, the post then says who decided, and a refusal goes to the clicker alone.
 */
import { describe, expect, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { Gates } from '../support/gates.js';
import { MENTION, Slack } from '../support/slack.js';

const api = new Api();
const slack = new Slack();

const blockTypes = (m: { blocks?: unknown[] }) => (m.blocks ?? []).map((b) => (b as { type: string }).type);

describe('Slack buttons', () => {
  it('approve and skip from a post; a person who may not decide is told why, and only they see it', async () => {
    const gates = new Gates();
    const pipeline = uniqueName('chat-buttons');
    await api.pipeline({
      name: pipeline,
      stages: [
        {
          name: 'Release',
          actions: [
            { name: 'hold', type: 'pause', runOrder: 1 },
            { name: 'go-live', type: 'approval', approvers: { users: ['dave'], groups: [] }, runOrder: 2 },
            { name: 'probe', type: 'command', run: `test -e ${gates.dir}/healthy`, onError: 'trap', runOrder: 3 },
          ],
        },
      ],
    });
    const id = await api.trigger(pipeline); // by bob
    const channel = await slack.bind('U0ALICE', id);
    await slack.join(channel, ['U0BOB', 'U0CAROL', 'U0DAVE', 'U0NOBODY']);
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('resume');
    await slack.say('U0BOB', channel, `${MENTION} resume`);

    const request = await slack.waitForMessage(channel, 'go-live');
    expect(blockTypes(request)).toEqual(['section', 'actions']);

    // carol is no approver: told so, alone; the post is unchanged and the approval still waits.
    expect((await slack.click('U0CAROL', request, 'approve')).status).toBe(200);
    const refusal = await slack.waitForMessage(channel, 'Paso refused your approve');
    expect(refusal).toMatchObject({ ephemeralTo: 'U0CAROL' });
    expect(refusal.text).toContain('carol is not an approver');
    expect((await slack.messages(channel)).find((m) => m.ts === request.ts)?.edits).toBeUndefined();

    // Somebody not mapped to a Paso user cannot decide either.
    await slack.click('U0NOBODY', request, 'approve');
    await slack.waitForMessage(channel, 'not mapped to a Paso user');

    expect((await slack.click('U0DAVE', request, 'approve')).status).toBe(200);
    await expect
      .poll(async () => (await slack.messages(channel)).find((m) => m.ts === request.ts)?.text, { timeout: 10_000 })
      .toContain('approved by dave');
    const decided = (await slack.messages(channel)).find((m) => m.ts === request.ts)!;
    expect(blockTypes(decided)).toEqual(['section', 'context']); // no buttons once decided
    expect((await api.execution(id)).stages[0]!.actions[1]!.approvals).toEqual([
      expect.objectContaining({ by: 'dave', decision: 'approve' }),
    ]);

    const trapped = await slack.waitForMessage(channel, 'failed and is trapped');
    expect(blockTypes(trapped)).toEqual(['section', 'actions']);
    await slack.click('U0BOB', trapped, 'skip');
    const view = await api.waitFor(id, ['Succeeded']);
    expect(view.stages[0]!.actions[2]).toMatchObject({ status: 'Skipped' });
    expect(view.stages[0]!.actions[2]!.decisions).toEqual([expect.objectContaining({ by: 'bob', decision: 'skip' })]);
    await expect
      .poll(async () => (await slack.messages(channel)).find((m) => m.ts === trapped.ts)?.text)
      .toContain('skipped by bob');
  });

  it('refuses an interaction whose signature is wrong', async () => {
    const message = { channel: 'C1', text: 'x', ts: '1.000001', blocks: [] };
    const fake = {
      ...message,
      blocks: [{ type: 'actions', elements: [{ action_id: 'paso:approve', value: '{"e":"x-1","s":"a","a":"b"}' }] }],
    };
    const r = await slack.click('U0DAVE', fake, 'approve', { signature: 'v0=deadbeef' });
    expect(r.status).toBe(401);
  });
});
