/**
 * `paso`, the command line, as users run it: the built binary (`node dist/src/cli/main.js`) against the real
 * Paso of the global setup. Each test has its own pipeline; they run side by side.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../src/temporal/cli.js';
import { Api, uniqueName } from '../support/api.js';
import { freePort } from '../support/ports.js';
import { tokenOf, type TestUser } from '../support/users.js';

const CLI = path.join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
const api = new Api();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paso-cli-'));
/** A home of its own, so no credentials file of the machine's is ever read. */
const HOME = tmp();

interface RunOptions {
  /** The user whose token goes in PASO_TOKEN; null: none. */
  as?: TestUser | null;
  env?: Record<string, string>;
}

/** Runs `paso` with only the environment given (PATH, a clean HOME, PASO_URL and PASO_TOKEN). */
function paso(args: string[], { as = 'bob', env = {} }: RunOptions = {}): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [CLI, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME,
      PASO_URL: inject('pasoUrl'),
      ...(as ? { PASO_TOKEN: tokenOf(as) } : {}),
      ...env,
    },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });
}

/** A definition file, in YAML as people write them. */
function definitionFile(yaml: string): string {
  const file = path.join(tmp(), 'pipeline.yaml');
  writeFileSync(file, yaml);
  return file;
}

async function apply(yaml: string): Promise<void> {
  const r = await paso(['apply', '-f', definitionFile(yaml)], { as: 'alice' });
  expect(r.stderr).toBe('');
  expect(r.exitCode).toBe(0);
}

/** The first stage's status, once the execution exists. */
async function stageStatus(id: string): Promise<string | null | undefined> {
  const r = await api.get<{ stages: { status: string | null }[] }>(`/executions/${id}`);
  return r.status === 200 ? r.body.stages[0]?.status : undefined;
}

/** Where each line matching one of `patterns` is in the output, in order. */
const positions = (text: string, patterns: RegExp[]) => patterns.map((p) => text.search(p));

describe.concurrent('paso, the command line', () => {
  it('applies a YAML definition and `trigger --wait` shows the stages live, exiting 0 when it Succeeded', async () => {
    const name = uniqueName('cli-ok');
    await apply(`name: ${name}
variables: { TARGET: staging }
stages:
  - name: Build
    actions:
      - { name: compile, type: command, run: 'echo compiling; sleep 1' }
  - name: Deploy
    actions:
      - { name: ship, type: command, run: 'echo "shipping to $TARGET"' }
`);
    const r = await paso(['trigger', name, '--var', 'TARGET=prod', '--wait']);
    expect(r.exitCode).toBe(0);
    const lines = positions(r.stdout, [
      /Build\/compile +InProgress/,
      /Build\/compile +Succeeded/,
      /Build +Succeeded/,
      /Deploy\/ship +Succeeded/,
      new RegExp(`${name}-1 Succeeded after`),
    ]);
    expect(lines.every((p) => p >= 0)).toBe(true);
    expect([...lines].sort((a, b) => a - b)).toEqual(lines);

    const log = await paso(['logs', `${name}-1`, 'Deploy/ship']);
    expect(log.stdout).toContain('shipping to prod');
    const status = await paso(['status', `${name}-1`, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ executionId: `${name}-1`, status: 'Succeeded' });
  });

  it('exits 10 when the execution Failed, saying which action and why', async () => {
    const name = uniqueName('cli-fail');
    await apply(`name: ${name}
stages:
  - name: Build
    actions:
      - { name: broken, type: command, run: 'echo "about to fail"; exit 3' }
`);
    const r = await paso(['trigger', name, '--wait']);
    expect(r.exitCode).toBe(10);
    expect(r.stdout).toMatch(/Build\/broken +Failed .*exited with code 3/);
    expect(r.stdout).toContain(`${name}-1 Failed`);
    expect(r.stdout).toContain(`paso retry ${name}-1`);
  });

  it('exits 14 when CHECK refuses the trigger, with the check and its output, and nothing is created', async () => {
    const name = uniqueName('cli-check');
    await apply(`name: ${name}
variables: { TARGET: staging }
check:
  - { name: not-frozen, type: command, run: 'echo "$TARGET is frozen"; test "$TARGET" != frozen' }
stages:
  - name: Build
    actions: [{ name: compile, type: command, run: 'true' }]
`);
    const r = await paso(['trigger', name, '--var', 'TARGET=frozen', '--wait']);
    expect(r.exitCode).toBe(14);
    expect(r.stderr).toContain('refused by CHECK');
    expect(r.stderr).toMatch(/check not-frozen: Failed\n +frozen is frozen/);
    const listed = await paso(['executions', name, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual({ executions: [], nextCursor: null });
  });

  it('exits 11 when the execution is stopped from another `paso`', async () => {
    const name = uniqueName('cli-stop');
    await apply(`name: ${name}
stages:
  - name: Build
    actions: [{ name: sleepy, type: command, run: 'sleep 30' }]
`);
    const waiting = paso(['trigger', name, '--wait']);
    const id = `${name}-1`;
    await expect.poll(() => stageStatus(id), { timeout: 15_000, interval: 200 }).toBe('InProgress');
    const stop = await paso(['stop', id, '--abandon', '--reason', 'wrong tag']);
    expect(stop.exitCode).toBe(0);
    const r = await waiting;
    expect(r.exitCode).toBe(11);
    expect(r.stdout).toMatch(/Build\/sleepy +Abandoned/);
    expect(r.stdout).toContain('stopped by bob (abandon): wrong tag');
  });

  it('`logs -f` follows a running command to its end', async () => {
    const name = uniqueName('cli-logs');
    await apply(`name: ${name}
stages:
  - name: Build
    actions:
      - { name: slow, type: command, run: 'echo one; sleep 3; echo two; sleep 1; echo three' }
`);
    // (Seconds after "one": on a loaded machine, reading the status as "one" arrives can take over a second.)
    const triggered = await paso(['trigger', name, '--json']);
    const { executionId } = JSON.parse(triggered.stdout) as { executionId: string };
    const follow = paso(['logs', executionId, 'Build/slow', '-f'], { as: 'carol' });
    let seen = '';
    let statusWhenOneArrived: Promise<string | null | undefined> | undefined;
    follow.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (!statusWhenOneArrived && seen.includes('one\n')) {
        statusWhenOneArrived = api.execution(executionId).then((v) => v.stages[0]!.actions[0]!.status);
      }
    });
    const r = await follow;
    expect(r.exitCode).toBe(0);
    expect(await statusWhenOneArrived).toBe('InProgress');
    expect(r.stdout.split('\n').filter((l) => /^(one|two|three)$/.test(l))).toEqual(['one', 'two', 'three']);
  });

  it('lists what waits in `waiting`, and `approve` lets the waiting `trigger --wait` finish', async () => {
    const name = uniqueName('cli-approve');
    await apply(`name: ${name}
stages:
  - name: Release
    actions:
      - { name: go-live, type: approval, approvers: { users: [alice] }, message: 'Check staging', runOrder: 1 }
      - { name: ship, type: command, run: 'echo shipped', runOrder: 2 }
`);
    const waiting = paso(['trigger', name, '--wait']);
    const id = `${name}-1`;
    await expect
      .poll(
        async () => {
          const r = await paso(['waiting', '--pipeline', name, '--json'], { as: 'alice' });
          return JSON.parse(r.stdout || '[]') as unknown[];
        },
        { timeout: 15_000, interval: 300 },
      )
      .toEqual([
        expect.objectContaining({ executionId: id, stage: 'Release', action: 'go-live', waitingFor: 'approval' }),
      ]);
    // Only what the caller may decide: carol is no approver.
    const carol = await paso(['waiting', '--json'], { as: 'carol' });
    expect(JSON.parse(carol.stdout) as { executionId: string }[]).not.toContainEqual(
      expect.objectContaining({ executionId: id }),
    );
    const approve = await paso(['approve', id, '--comment', 'ship it'], { as: 'alice' });
    expect(approve.stdout).toContain(`${id}: approved Release/go-live`);
    expect(approve.exitCode).toBe(0);

    const r = await waiting;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Release\/go-live +InProgress +waiting for approval +"Check staging"/);
    expect(r.stdout).toMatch(/Release\/ship +Succeeded/);
    const view = await api.execution(id);
    expect(view.stages[0]!.actions[0]!.approvals).toEqual([
      expect.objectContaining({ by: 'alice', decision: 'approve', comment: 'ship it' }),
    ]);
  });

  it('says a token is wrong or missing (exit 3) and a role is missing (exit 4)', async () => {
    const bad = await paso(['pipelines', '--token', 'not-a-token']);
    expect(bad.exitCode).toBe(3);
    expect(bad.stderr).toContain('Unauthorized (401): unknown token');
    expect(bad.stderr).toContain('paso login');
    const none = await paso(['pipelines'], { as: null });
    expect(none.exitCode).toBe(3);
    expect(none.stderr).toContain('no token');
    const forbidden = await paso(['apply', '-f', definitionFile(`name: ${uniqueName('cli-viewer')}\nstages: []\n`)], {
      as: 'carol',
    });
    expect(forbidden.exitCode).toBe(4);
    expect(forbidden.stderr).toContain('Forbidden (403)');
  });

  it('says the gateway cannot be reached (exit 5)', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await paso(['state', 'web', '--url', url]);
    expect(r.exitCode).toBe(5);
    expect(r.stderr).toContain(`cannot reach the Paso gateway at ${url}: ECONNREFUSED`);
  });

  it('lists the named locks, shows one, and exits 1 for one that is not declared', async () => {
    const all = await paso(['locks', '--json'], { as: 'carol' });
    expect(all.exitCode).toBe(0);
    const locks = JSON.parse(all.stdout) as { name: string; order: string }[];
    expect(locks).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'locks-newest', order: 'newest-first' })]),
    );
    const table = await paso(['locks'], { as: 'carol' });
    expect(table.stdout).toMatch(/^LOCK +ORDER +HELD BY +WAITING +TOKEN$/m);
    expect(table.stdout).toMatch(/^locks-newest +newest-first /m);
    const one = await paso(['locks', 'env:prod'], { as: 'carol' });
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toMatch(/^env:prod \(fifo, last token \d+\): the production environment$/m);
    const none = await paso(['locks', 'env:moon'], { as: 'carol' });
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('no lock "env:moon" is declared or in use');
  });

  it('shows the path of each invalid field of a definition `apply` sends (exit 1)', async () => {
    const name = uniqueName('cli-invalid');
    const file = definitionFile(`name: ${name}
stages:
  - name: Build
    actions:
      - { name: compile, type: command, run: '' }
`);
    const r = await paso(['apply', '-f', file], { as: 'alice' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Invalid request (400)');
    expect(r.stderr).toMatch(/^ +stages\[0\]\.actions\[0\]\.run: /m);
    expect((await api.get(`/pipelines/${name}`)).status).toBe(404);
  });

  it('exits 2 on usage errors, before sending anything', async () => {
    const missing = await paso(['trigger']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'pipeline'");
    const step = await paso(['logs', 'web-1', 'Build']);
    expect(step.exitCode).toBe(2);
    expect(step.stderr).toContain('expected <stage>/<action>');
    const help = await paso(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]* 10 +with --wait: the execution Failed/);
  });

  it('`login` keeps the URL and token in a 0600 file that later commands use; `logout` removes it', async () => {
    const config = tmp();
    const env = { XDG_CONFIG_HOME: config, PASO_URL: '' };
    const login = await paso(['login', '--url', inject('pasoUrl'), '--token', tokenOf('carol')], { as: null, env });
    expect(login.exitCode).toBe(0);
    const file = path.join(config, 'paso', 'credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: inject('pasoUrl'), token: tokenOf('carol') });

    const listed = await paso(['pipelines', '--json'], { as: null, env });
    expect(listed.exitCode).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(expect.any(Array));

    const refused = await paso(['login', '--url', inject('pasoUrl'), '--token', 'wrong'], { as: null, env });
    expect(refused.exitCode).toBe(3);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ token: tokenOf('carol') });

    const logout = await paso(['logout'], { as: null, env });
    expect(logout.exitCode).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect((await paso(['pipelines'], { as: null, env })).exitCode).toBe(3);

    // Without XDG_CONFIG_HOME: under ~/.config.
    const home = tmp();
    await paso(['login', '--url', inject('pasoUrl'), '--token', tokenOf('carol')], { as: null, env: { HOME: home } });
    expect(statSync(path.join(home, '.config', 'paso', 'credentials.json')).mode & 0o777).toBe(0o600);
  });

  it('prints completion scripts for bash and zsh', async () => {
    const bash = await paso(['completion', 'bash'], { as: null });
    expect(bash.exitCode).toBe(0);
    expect(bash.stdout).toContain('complete -F _paso paso');
    expect(bash.stdout).toContain('--idempotency-key');
    const zsh = await paso(['completion', 'zsh'], { as: null });
    expect(zsh.stdout).toMatch(/^#compdef paso/);
    expect(zsh.stdout).toContain("'trigger:start an execution");
  });
});
