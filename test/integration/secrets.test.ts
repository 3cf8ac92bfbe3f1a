/**
 * Secrets for commands (issue 14): defined in the workers' config file (a value, a file, a worker's variable;
 * optionally for some pipelines), asked for by name, given to the command's process, masked in its output as
 * it streams, and seen nowhere else: not in the API, the workflow history, notifications, chat or annotations.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { MENTION, Slack } from '../support/slack.js';
import { TEST_SECRET_VALUES } from '../support/users.js';

const api = new Api();
const slack = new Slack();
const VALUES = Object.values(TEST_SECRET_VALUES);
let client: Client;

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await client?.connection.close();
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Shell: the SHA-256 of the variable's value, into `file` (the test compares hashes, never values). */
const hashInto = (variable: string, file: string) => `printf %s "$${variable}" | sha256sum | cut -c1-64 > ${file}`;
/** Shell: prints the variable's value in two writes half a second apart, so it crosses two chunks. */
const printSplit = (variable: string) =>
  `printf 'split=%s' "$(printf %s "$${variable}" | cut -c1-6)"; sleep 0.5; ` +
  `printf '%s\\n' "$(printf %s "$${variable}" | cut -c7-)"`;

function expectNoSecretIn(what: string, text: string): void {
  for (const value of VALUES) expect(text.includes(value), `${what} contains a secret value`).toBe(false);
  // Nor the halves of one printed apart.
  for (const value of VALUES) expect(text.includes(value.slice(6)), `${what} contains half a secret`).toBe(false);
}

describe('secrets', () => {
  it('reach the command, its CHECK and its rollback; are masked in logs; appear in no API answer, history, hook or chat post', async () => {
    const name = uniqueName('secrets');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-secrets-'));
    await api.pipeline({
      name,
      rollbackOnFailure: true,
      check: [
        {
          name: 'registry',
          type: 'command',
          run: `${hashInto('REGISTRY_PASSWORD', `${dir}/check`)}; echo "checking with $REGISTRY_PASSWORD"`,
          secrets: ['REGISTRY_PASSWORD'],
        },
      ],
      stages: [
        {
          name: 'Deploy',
          actions: [
            {
              name: 'ship',
              type: 'command',
              run: [
                hashInto('DEPLOY_TOKEN', `${dir}/deploy`),
                hashInto('CLOUD_TOKEN', `${dir}/cloud`),
                'echo "token=$DEPLOY_TOKEN cloud=$CLOUD_TOKEN"',
                printSplit('DEPLOY_TOKEN'),
              ].join('; '),
              rollback: `${hashInto('DEPLOY_TOKEN', `${dir}/rollback`)}; echo "undeploying with $DEPLOY_TOKEN"`,
              secrets: ['DEPLOY_TOKEN', 'CLOUD_TOKEN'],
              runOrder: 1,
            },
            // A pause, so that a chat channel can be bound before the failure that rolls back.
            { name: 'hold', type: 'pause', runOrder: 2 },
            { name: 'verify', type: 'command', run: 'exit 1', runOrder: 3 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const channel = await slack.bind('U0BOB', id);
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[1]!.waitingFor).toBe('resume');
    // A Talkback command with a secret, its output posted to the channel and kept as an annotation.
    await slack.say('U0BOB', channel, `${MENTION} run whoami`);
    await slack.waitForMessage(channel, 'Talkback `whoami` (tb-1, run by bob) Succeeded');
    await slack.say('U0BOB', channel, `${MENTION} resume`);
    const view = await api.waitFor(id, ['Failed']);
    expect(view.rollback?.status).toBe('Succeeded');
    await slack.waitForMessage(channel, `*${id}* Failed`);

    // The values reached every script that asked for them.
    expect(readFileSync(`${dir}/check`, 'utf8').trim()).toBe(sha256(TEST_SECRET_VALUES.REGISTRY_PASSWORD));
    expect(readFileSync(`${dir}/deploy`, 'utf8').trim()).toBe(sha256(TEST_SECRET_VALUES.DEPLOY_TOKEN));
    expect(readFileSync(`${dir}/cloud`, 'utf8').trim()).toBe(sha256(TEST_SECRET_VALUES.CLOUD_TOKEN));
    expect(readFileSync(`${dir}/rollback`, 'utf8').trim()).toBe(sha256(TEST_SECRET_VALUES.DEPLOY_TOKEN));

    // Logs: masked as they streamed, the value split across two chunks included.
    const log = (await api.get<string>(`/executions/${id}/logs/Deploy/ship`)).text;
    expect(log).toContain('token=*** cloud=***');
    expect(log).toContain('split=***');
    const rollbackLog = (await api.get<string>(`/executions/${id}/logs/Deploy/ship.rollback`)).text;
    expect(rollbackLog).toContain('undeploying with ***');

    // Everything a user, an operator of Temporal or a chat channel can see.
    const seen: [string, string][] = [
      ['execution view', (await api.get(`/executions/${id}`)).text],
      ['timeline', (await api.get(`/executions/${id}/timeline`)).text],
      ['annotations', (await api.get(`/executions/${id}/annotations`)).text],
      ['pipeline', (await api.get(`/pipelines/${name}`)).text],
      ['ship log', log],
      ['rollback log', rollbackLog],
      ['history', JSON.stringify(await client.workflow.getHandle(id).fetchHistory())],
      ['hooks', await (await fetch(`${inject('hookUrl')}/received`)).text()],
      ['chat', JSON.stringify(await slack.messages())],
    ];
    const talkback = (await api.get<{ kind: string; file?: { url: string } }[]>(`/executions/${id}/annotations`)).body;
    const attached = talkback.find((a) => a.file);
    expect(attached).toBeDefined();
    const talkbackLog = (await api.get<string>(attached!.file!.url)).text;
    expect(talkbackLog).toContain('deploying as ***');
    seen.push(['talkback log', talkbackLog]);
    for (const [what, text] of seen) expectNoSecretIn(what, text);
    // The check's history (its own workflow) too.
    const checks: string[] = [];
    await expect
      .poll(async () => {
        checks.length = 0;
        const query = `WorkflowType = 'check' AND WorkflowId STARTS_WITH 'pipeline:${name}:check:'`;
        for await (const wf of client.workflow.list({ query })) checks.push(wf.workflowId);
        return checks.length;
      })
      .toBe(1);
    expectNoSecretIn('check history', JSON.stringify(await client.workflow.getHandle(checks[0]!).fetchHistory()));
  });

  it('a definition naming an unknown secret, or one not for its pipeline, is refused with the path', async () => {
    const command = (secrets: string[]) => ({ name: 'a', type: 'command', run: 'true', secrets });
    const unknown = await api.put(`/pipelines/${uniqueName('secrets-unknown')}`, {
      stages: [{ name: 'S', actions: [command(['DEPLOY_TOKEN', 'NO_SUCH_SECRET'])] }],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.contentType).toContain('application/problem+json');
    expect((unknown.body as { errors: unknown[] }).errors).toEqual([
      { path: 'stages[0].actions[0].secrets[1]', message: expect.stringContaining('no secret "NO_SUCH_SECRET"') },
    ]);

    const elsewhere = await api.put(`/pipelines/${uniqueName('secrets-elsewhere')}`, {
      check: [command(['SCOPED_TOKEN'])],
      stages: [{ name: 'S', actions: [command(['DEPLOY_TOKEN'])] }],
    });
    expect(elsewhere.status).toBe(400);
    expect((elsewhere.body as { errors: unknown[] }).errors).toEqual([
      { path: 'check[0].secrets[0]', message: expect.stringContaining('not for pipeline') },
    ]);
    expect(
      (await api.put('/pipelines/secrets-scoped', { stages: [{ name: 'S', actions: [command(['SCOPED_TOKEN'])] }] }))
        .status,
    ).toBeLessThan(300);

    const forbidden = await api.put(`/pipelines/${uniqueName('secrets-forbidden')}`, {
      stages: [{ name: 'S', actions: [command(['LD_PRELOAD'])] }],
    });
    expect(forbidden.status).toBe(400);
    expect((forbidden.body as { errors: { path: string }[] }).errors[0]!.path).toBe('stages[0].actions[0].secrets[0]');
  });

  it('a secret the worker cannot read fails the action, naming the secret', async () => {
    const name = uniqueName('secrets-gone');
    await api.pipeline({
      name,
      stages: [
        { name: 'S', actions: [{ name: 'a', type: 'command', run: 'echo ran > /dev/null', secrets: ['GONE_TOKEN'] }] },
      ],
    });
    const view = await api.waitFor(await api.trigger(name), ['Failed']);
    expect(view.stages[0]!.actions[0]!.error).toMatch(
      /secret "GONE_TOKEN" is not set: its variable PASO_TEST_UNSET_TOKEN/,
    );
    expect(view.stages[0]!.actions[0]!.error).toMatch(/the command did not run/);
  });
});
