/**
 * The web console end to end: a real Chromium (Playwright) against the real gateway of the test run. People
 * sign in, decide, stop, retry, follow logs and annotate from pages; pages follow changes made elsewhere.
 * Screenshots of the main pages go to test-results/console/ (not committed) to be looked at.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { launchBrowser } from '../support/browser.js';
import { freePort } from '../support/ports.js';
import { tokenOf, type TestUser } from '../support/users.js';

const api = new Api();
const base = inject('pasoUrl');
const SHOTS = path.resolve('test-results', 'console');
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await launchBrowser();
}, 600_000);
afterAll(() => browser?.close());

/** A browser of its own for `user`, signed in through the sign-in page. */
async function signedIn(user: TestUser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(`${base}/ui/login`);
  await page.getByLabel('Token').fill(tokenOf(user));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/ui`);
  return { context, page };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

function approvalPipeline(name: string, required: number) {
  return {
    name,
    stages: [
      {
        name: 'Release',
        actions: [
          {
            name: 'go-live',
            type: 'approval',
            approvers: { users: ['dave'], groups: ['release-managers'] },
            required,
            message: 'Check staging first',
          },
          { name: 'ship', type: 'command', run: 'echo shipped', runOrder: 2 },
        ],
      },
    ],
  };
}

async function waitingApproval(id: string) {
  for (let i = 0; i < 150; i++) {
    const view = await api.execution(id);
    if (view.stages[0]?.actions[0]?.waitingFor === 'approval') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${id} never waited for its approval`);
}

describe('signing in', () => {
  it('a reviewUrl leads a browser through sign-in to the execution; the session is an HttpOnly strict cookie', async () => {
    const name = uniqueName('console-login');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    // The API still answers JSON to programs.
    expect((await api.get(`/executions/${id}`)).contentType).toContain('application/json');

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/executions/${id}`); // the reviewUrl of notifications and chat posts
    await expect.poll(() => new URL(page.url()).pathname).toBe('/ui/login');
    await page.getByLabel('Token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not one Paso knows');
    await page.getByLabel('Token').fill(tokenOf('dave'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/ui/executions/${id}`);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain(id);

    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'paso_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(tokenOf('dave'));
    expect(page.url()).not.toContain(tokenOf('dave'));
    const stored = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    );
    expect(stored).not.toContain(tokenOf('dave'));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/ui\/login$/);
    // The old cookie no longer opens anything, even if a copy was kept.
    const again = await fetch(`${base}/ui`, {
      headers: { cookie: `paso_session=${cookie!.value}` },
      redirect: 'manual',
    });
    expect(again.status).toBe(303);
    await context.close();
  });
});

describe('deciding from the console', () => {
  it('two required approvers decide from two browsers; the waiting list and the page follow along', async () => {
    const name = uniqueName('console-two');
    await api.pipeline(approvalPipeline(name, 2));
    const id = await api.trigger(name); // by bob, who may not approve what he triggered
    await waitingApproval(id);

    const alice = await signedIn('alice');
    const dave = await signedIn('dave');
    // Waiting for me: the approval, with its age and what it asks.
    await alice.page.reload();
    const item = alice.page.getByRole('listitem').filter({ hasText: id });
    await expect.poll(() => item.textContent()).toContain('Check staging first');
    await shot(alice.page, 'waiting-for-me');
    await item.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => item.count()).toBe(0); // decided: no longer waiting for alice

    await dave.page.goto(`${base}/ui/executions/${id}`);
    await expect.poll(() => dave.page.locator('#decide').locator('..').textContent()).toContain('1 of 2 approvals');
    await shot(dave.page, 'execution-waiting');
    await dave.page.getByLabel('Comment').fill('staging is fine');
    await dave.page.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => dave.page.locator('h1 .badge').textContent(), { timeout: 20_000 }).toBe('Succeeded');
    const view = await api.execution(id);
    expect(view.stages[0]!.actions[0]!.approvals.map((a) => [a.by, a.comment])).toEqual([
      ['alice', ''],
      ['dave', 'staging is fine'],
    ]);
    await shot(dave.page, 'execution-succeeded');
    await alice.context.close();
    await dave.context.close();
  });

  it('a rejection fails the execution, with the comment on its timeline', async () => {
    const name = uniqueName('console-reject');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    const { page, context } = await signedIn('dave');
    await page.goto(`${base}/ui/executions/${id}`);
    await page.getByLabel('Comment').fill('not today');
    await page.getByRole('button', { name: 'Reject' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent(), { timeout: 20_000 }).toBe('Failed');
    await expect.poll(() => page.locator('ol.timeline').textContent()).toContain('not today');
    await context.close();
  });

  it('a viewer who may not decide sees no buttons, and a forged request is refused with the reason', async () => {
    const name = uniqueName('console-viewer');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    // GET /waiting answers what the caller may decide: dave is an approver, carol is not, bob triggered it.
    const waiting = async (user: TestUser) =>
      (await api.as(user).get<{ decisions: { executionId: string }[] }>('/waiting')).body.decisions.map(
        (d) => d.executionId,
      );
    expect(await waiting('dave')).toContain(id);
    expect(await waiting('carol')).not.toContain(id);
    expect(await waiting('bob')).not.toContain(id);
    expect((await api.as('carol').get('/me')).body).toEqual({ name: 'carol', roles: ['viewer'], groups: [] });
    const { page, context } = await signedIn('carol');
    await page.goto(`${base}/ui/executions/${id}`);
    await expect.poll(() => page.locator('.refusal').first().textContent()).toContain('carol is not an approver');
    expect(await page.getByRole('button', { name: /Approve|Reject|Stop|Retry/ }).count()).toBe(0);
    // The page's own token, the right session: the server still says no.
    const forged = await page.evaluate(async (execution) => {
      const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')!.content;
      const res = await fetch(`/ui/api/executions/${execution}/approvals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ stage: 'Release', action: 'go-live', decision: 'approve' }),
      });
      return { status: res.status, body: (await res.json()) as { detail: string } };
    }, id);
    expect(forged.status).toBe(403);
    expect(forged.body.detail).toContain('not an approver');
    expect((await api.execution(id)).stages[0]!.actions[0]!.approvals).toEqual([]);
    await context.close();
  });

  it('a page open in a browser shows an approval made through the API within moments', async () => {
    const name = uniqueName('console-live');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    const { page, context } = await signedIn('bob');
    await page.goto(`${base}/ui/executions/${id}`);
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('InProgress');
    const decided = await api
      .as('dave')
      .post(`/executions/${id}/approvals`, { stage: 'Release', action: 'go-live', decision: 'approve' });
    expect(decided.status).toBe(200);
    await expect.poll(() => page.locator('h1 .badge').textContent(), { timeout: 10_000 }).toBe('Succeeded');
    await context.close();
  });
});

describe('operating from the console', () => {
  it('stops a running execution, and retries a failed stage', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-console-'));
    const name = uniqueName('console-stop');
    await api.pipeline({
      name,
      stages: [{ name: 'Deploy', actions: [{ name: 'roll-out', type: 'command', run: 'sleep 60' }] }],
    });
    const running = await api.trigger(name);
    const { page, context } = await signedIn('bob');
    await page.goto(`${base}/ui/executions/${running}`);
    page.once('dialog', (dialog) => void dialog.accept());
    const abandon = page.locator('form', { has: page.getByRole('button', { name: 'Stop and abandon' }) });
    await abandon.getByLabel('Reason').fill('wrong build');
    await abandon.getByRole('button', { name: 'Stop and abandon' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent(), { timeout: 20_000 }).toBe('Stopped');
    expect((await api.execution(running)).stop).toMatchObject({ by: 'bob', abandon: true, reason: 'wrong build' });

    const flaky = uniqueName('console-retry');
    await api.pipeline({
      name: flaky,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'migrate', type: 'command', run: `test -e ${dir}/fixed || { touch ${dir}/fixed; exit 3; }` },
          ],
        },
      ],
    });
    const failed = await api.trigger(flaky);
    await api.waitFor(failed, ['Failed']);
    await page.goto(`${base}/ui/executions/${failed}`);
    await page.getByRole('button', { name: 'Retry failed actions of Deploy' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent(), { timeout: 20_000 }).toBe('Succeeded');
    await context.close();
  });

  it('follows a running command’s log to its end', async () => {
    const name = uniqueName('console-log');
    // The command prints, then waits for the test to let it finish: what the page shows before that was
    // streamed while the command ran, however slow the machine.
    const gate = path.join(mkdtempSync(path.join(os.tmpdir(), 'paso-console-')), 'go');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Build',
          actions: [
            {
              name: 'compile',
              type: 'command',
              run: `echo "step 1"; echo "step 2"; while [ ! -e ${gate} ]; do sleep 0.2; done; echo "step 3"`,
            },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const { page, context } = await signedIn('carol');
    await page.goto(`${base}/ui/executions/${id}/logs/Build/compile`);
    await expect.poll(() => page.locator('#log').textContent(), { timeout: 15_000 }).toContain('step 2');
    expect(await page.locator('#log-state').textContent()).not.toContain('has ended');
    writeFileSync(gate, '');
    await expect.poll(() => page.locator('#log-state').textContent(), { timeout: 15_000 }).toContain('has ended');
    expect(await page.locator('#log').textContent()).toContain('step 3');
    await shot(page, 'log');
    await context.close();
  });

  it('adds a comment and a file to the timeline', async () => {
    const name = uniqueName('console-annotate');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'paso-console-')), 'smoke-report.txt');
    writeFileSync(file, 'all 42 smoke tests passed\n');
    const { page, context } = await signedIn('bob');
    await page.goto(`${base}/ui/executions/${id}`);
    const comment = page.locator('form', { has: page.getByRole('button', { name: 'Add comment' }) });
    await comment.getByLabel('Comment').fill('smoke tests are green');
    await comment.getByRole('button', { name: 'Add comment' }).click();
    await expect.poll(() => page.locator('ol.timeline').textContent()).toContain('smoke tests are green');
    const attach = page.locator('form', { has: page.getByRole('button', { name: 'Attach file' }) });
    await attach.getByLabel('File').setInputFiles(file);
    await attach.getByRole('button', { name: 'Attach file' }).click();
    await expect.poll(() => page.locator('ol.timeline').textContent()).toContain('smoke-report.txt');
    const annotations = await api.get<{ kind: string; file?: { name: string } }[]>(`/executions/${id}/annotations`);
    expect(annotations.body.map((a) => a.file?.name ?? a.kind)).toEqual(['comment', 'smoke-report.txt']);
    await context.close();
  });

  it('refuses a form posted from another site, and the execution goes on', async () => {
    const name = uniqueName('console-csrf');
    await api.pipeline({
      name,
      stages: [{ name: 'Deploy', actions: [{ name: 'roll-out', type: 'command', run: 'sleep 20' }] }],
    });
    const id = await api.trigger(name);
    // Another origin on the same machine: the same *site* for cookies, so only the CSRF check stands.
    const evilPort = await freePort();
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form id="f" method="post" action="${base}/ui/api/executions/${id}/stop" enctype="text/plain">
        <input name='{"abandon":true,"x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
    }).listen(evilPort, '127.0.0.1');
    const { page, context } = await signedIn('bob');
    const answer = page.waitForResponse((r) => r.url().includes(`/executions/${id}/stop`));
    await page.goto(`http://127.0.0.1:${evilPort}/`);
    expect((await answer).status()).toBe(403);
    evil.close();
    expect((await api.execution(id)).status).toBe('InProgress');
    await api.as('bob').post(`/executions/${id}/stop`, { abandon: true });
    await context.close();
  });

  it('shows who holds each named lock and who waits for it, live, and why an execution waits', async () => {
    const name = uniqueName('console-locks');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-console-locks-'));
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        {
          name: 'Deploy',
          locks: ['locks-console'],
          actions: [
            { name: 'ship', type: 'command', run: `until [ -e ${dir}/go-$PASO_EXECUTION_ID ]; do sleep 0.05; done` },
          ],
        },
      ],
    });
    const e1 = await api.trigger(name);
    await expect.poll(async () => (await api.execution(e1)).stages[0]!.status, { timeout: 30_000 }).toBe('InProgress');
    const { page, context } = await signedIn('carol', { width: 390, height: 844 });
    await page.goto(`${base}/ui/locks`);
    const row = page.getByRole('row').filter({ hasText: 'locks-console' });
    await expect.poll(() => row.textContent()).toContain(e1);
    expect(await row.textContent()).toContain('the console test’s environment');
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    // A second execution arrives: the open page shows it waiting without a reload.
    const e2 = await api.trigger(name);
    await expect
      .poll(() => row.locator('ol li').allTextContents(), { timeout: 15_000 })
      .toEqual([expect.stringContaining(e2)]);
    await shot(page, 'locks-phone');
    await page.goto(`${base}/ui/executions/${e2}`);
    await expect
      .poll(() => page.getByText(`Waiting to enter Deploy for the lock locks-console, held by ${e1}`).isVisible())
      .toBe(true);
    for (const id of [e1, e2]) {
      writeFileSync(path.join(dir, `go-${id}`), '');
      expect((await api.waitFor(id)).status).toBe('Succeeded');
    }
    await context.close();
  });

  it('works at a phone’s width: nothing scrolls sideways and the decision buttons are there', async () => {
    const name = uniqueName('console-phone');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    const { page, context }: { page: Page; context: BrowserContext } = await signedIn('dave', {
      width: 390,
      height: 844,
    });
    for (const where of [`/ui/executions/${id}`, '/ui', `/ui/pipelines/${name}`]) {
      await page.goto(`${base}${where}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, where).toBeLessThanOrEqual(0);
    }
    await page.goto(`${base}/ui/executions/${id}`);
    await expect.poll(() => page.getByRole('button', { name: 'Approve' }).isVisible()).toBe(true);
    await shot(page, 'execution-phone');
    await page.goto(`${base}/ui/pipelines/${name}`);
    await shot(page, 'pipeline-phone');
    await context.close();
  });

  it('loads the execution page light: its weight, and the time of a first load (printed)', async () => {
    const name = uniqueName('console-weight');
    await api.pipeline(approvalPipeline(name, 1));
    const id = await api.trigger(name);
    await waitingApproval(id);
    const { page, context } = await signedIn('dave');
    const loads: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const fresh = await context.newPage(); // a new page: nothing of it in memory, assets revalidated
      await fresh.goto(`${base}/ui/executions/${id}`, { waitUntil: 'load' });
      const timing = await fresh.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
        const size = (e: PerformanceResourceTiming) => e.decodedBodySize;
        return {
          load: nav.loadEventEnd - nav.startTime,
          bytes: size(nav) + resources.reduce((t, r) => t + size(r), 0),
        };
      });
      loads.push(timing.load);
      bytes = timing.bytes;
      await fresh.close();
    }
    loads.sort((a, b) => a - b);
    console.log(
      `console: execution page first load p50 ${loads[2]!.toFixed(0)} ms (5 loads), page weight ${(bytes / 1024).toFixed(1)} KB (HTML + CSS + JS, uncompressed) (test)`,
    );
    expect(bytes).toBeLessThan(60 * 1024);
    await page.close();
    await context.close();
  });
});
