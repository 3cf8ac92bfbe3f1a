/**
 * Paso as a cluster, tried as its users meet it: two gateways behind which two workers on their own data
 * directories run commands, a full Temporal server on PostgreSQL, and nothing shared on disk. Everything goes
 * through the gateways' HTTP API; the one other lever is the Temporal server's process.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Api, uniqueName, type Reply } from '../support/api.js';
import { tokenOf } from '../support/users.js';

const [a, b] = inject('gatewayUrls').map((url) => new Api(url)) as [Api, Api];
const control = inject('controlUrl');

/** A trigger as a client behind a load balancer sends it: on 503 it waits `Retry-After` and tries again. */
async function triggerHonouringRetryAfter(api: Api, pipeline: string): Promise<{ id: string; tries: number[] }> {
  const statuses: number[] = [];
  for (;;) {
    const r = await api.as('bob').post<{ executionId: string }>(`/pipelines/${pipeline}/executions`, {});
    statuses.push(r.status);
    if (r.status === 201) return { id: r.body.executionId, tries: statuses };
    if (r.status !== 503 || statuses.length > 50) throw new Error(`trigger: ${r.status} ${r.text}`);
    await sleep(Number(r.headers.get('retry-after') ?? 1) * 1000);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const numberOf = (id: string) => Number(id.slice(id.lastIndexOf('-') + 1));

describe('two gateways, two workers, one full Temporal server', () => {
  it('takes a trigger through one gateway and the approval through the other', async () => {
    const name = uniqueName('cluster-approve');
    await a.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'build', type: 'command', run: 'echo built' }] },
        {
          name: 'Release',
          actions: [{ name: 'go-live', type: 'approval', approvers: { users: ['alice'], groups: [] } }],
        },
      ],
    });
    const id = await a.trigger(name);
    await expect
      .poll(async () => (await b.execution(id)).stages[1]!.actions[0]!.waitingFor, { timeout: 30_000 })
      .toBe('approval');
    // Both gateways list it for alice, found by its PasoWaiting search attribute in PostgreSQL's visibility (the
    // cluster's gateways run without the scan of executions older than the attribute: PASO_WAITING_SCAN=0).
    for (const gateway of [a, b]) {
      const waiting = await gateway.as('alice').get<{ decisions: { executionId: string; kind: string }[] }>('/waiting');
      expect(waiting.status).toBe(200);
      expect(waiting.body.decisions.filter((d) => d.executionId === id).map((d) => d.kind)).toEqual(['approval']);
    }
    const approved = await b
      .as('alice')
      .post(`/executions/${id}/approvals`, { stage: 'Release', action: 'go-live', decision: 'approve' });
    expect(approved.status).toBe(200);
    const view = await a.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(view.stages[1]!.actions[0]!.approvals).toEqual([
      { by: 'alice', decision: 'approve', comment: '', at: expect.any(String) },
    ]);
  });

  it("follows a running command's log through the gateway that did not start it", async () => {
    const name = uniqueName('cluster-log');
    const run = 'for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done';
    await a.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run }] }] });
    const id = await a.trigger(name);
    const { res, text, statusAtFirstLine } = await b.followLog(id, 'S', 'a', 'line 1\n');
    expect(res.status).toBe(200);
    expect(statusAtFirstLine).toBe('InProgress'); // it was live, not read after the end
    expect(text).toContain('line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n');
    expect((await b.execution(id)).status).toBe('Succeeded');
  });

  it('serves an annotation and an attachment written through one gateway from the other', async () => {
    const name = uniqueName('cluster-notes');
    await a.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const id = await a.trigger(name);
    await a.waitFor(id);
    expect((await a.as('bob').post(`/executions/${id}/annotations`, { kind: 'comment', text: 'via A' })).status).toBe(
      201,
    );
    const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const form = new FormData();
    form.append('file', new Blob([content], { type: 'application/octet-stream' }), 'build.bin');
    const upload = await fetch(`${a.baseUrl}/executions/${id}/annotations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf('bob')}` },
      body: form,
    });
    expect(upload.status).toBe(201);

    const listed = await b.get<{ kind: string; text?: string; file?: { url: string } }[]>(
      `/executions/${id}/annotations`,
    );
    expect(listed.body.map((x) => x.kind)).toEqual(['comment', 'attachment']);
    expect(listed.body[0]!.text).toBe('via A');
    const file = await fetch(b.baseUrl + listed.body[1]!.file!.url, {
      headers: { authorization: `Bearer ${tokenOf('carol')}` },
    });
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toContain('application/octet-stream');
    expect(Buffer.from(await file.arrayBuffer()).equals(content)).toBe(true);
  });

  it('QUEUED: 200 triggers over both gateways at once are all accepted, enter in order, one at a time', async () => {
    const name = uniqueName('cluster-queue');
    // Commands on both workers append to one marker file: the test's view, not something Paso shares.
    const marks = path.join(mkdtempSync(path.join(os.tmpdir(), 'paso-cluster-marks-')), 'marks');
    const run = `echo "in $PASO_EXECUTION_ID" >> ${marks}; sleep 0.05; echo "out $PASO_EXECUTION_ID" >> ${marks}`;
    await a.pipeline({
      name,
      executionMode: 'QUEUED',
      stages: [{ name: 'Deploy', actions: [{ name: 'deploy', type: 'command', run }] }],
    });
    const triggers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => triggerHonouringRetryAfter(i % 2 ? b : a, name)),
    );
    const ids = triggers.map((t) => t.id);
    expect(new Set(ids).size).toBe(200); // none lost, none duplicated
    const statuses = triggers.flatMap((t) => t.tries);
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    console.log(`200 triggers: ${statuses.filter((s) => s === 503).length} answered 503 first (Retry-After honoured)`);

    const last = ids.reduce((x, y) => (numberOf(x) > numberOf(y) ? x : y));
    await a.waitFor(last, ['Succeeded'], 170_000);
    for (const id of ids) expect((await (numberOf(id) % 2 ? a : b).execution(id)).status).toBe('Succeeded');

    const lines = readFileSync(marks, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(400);
    const entered: number[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const [inWord, inId] = lines[i]!.split(' ');
      const [outWord, outId] = lines[i + 1]!.split(' ');
      // Never two in the stage: every "in" is followed by the same execution's "out".
      expect([inWord, outWord, outId]).toEqual(['in', 'out', inId]);
      entered.push(numberOf(inId!));
    }
    expect(entered).toEqual([...entered].sort((x, y) => x - y)); // FIFO by execution number
  });
});

describe('the Temporal server killed and started again mid-flight', () => {
  it('gateways answer 503 while it is down, never 500; everything recovers by itself and every execution ends', async () => {
    const name = uniqueName('cluster-outage');
    // A server killed just as it hands a command to a worker loses the hand-off: Temporal counts the command
    // as started, no worker has it, and after the heartbeat timeout the action is "worker lost". Nobody can
    // tell whether it ran, so with `onWorkerLoss: fail` it fails (CI saw that once in this test); `rerun`,
    // which a pipeline that should ride out an outage sets, runs it again.
    const rerun = { type: 'command', onWorkerLoss: 'rerun' } as const;
    await a.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [
        { name: 'One', actions: [{ ...rerun, name: 'work', run: 'sleep 4' }] },
        { name: 'Two', actions: [{ ...rerun, name: 'more', run: 'sleep 1' }] },
      ],
    });
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? b : a).trigger(name)));
    await expect
      .poll(async () => (await a.execution(ids[5]!)).stages[0]!.actions[0]!.status, { timeout: 20_000 })
      .toBe('InProgress');

    expect((await fetch(`${control}/temporal/kill`, { method: 'POST' })).status).toBe(204);
    const downAt = Date.now();
    const answers: Reply[] = [];
    while (Date.now() - downAt < 8_000) {
      answers.push(await a.get(`/executions/${ids[0]}`), await b.get(`/pipelines/${name}`));
      await sleep(250);
    }
    const restart = fetch(`${control}/temporal/restart`, { method: 'POST' });
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(statuses).toContain(503);
    const problem = answers.find((r) => r.status === 503)!;
    expect(problem.contentType).toContain('application/problem+json');
    expect((await restart).status).toBe(204);
    console.log(`Temporal server back ${((Date.now() - downAt) / 1000).toFixed(1)} s after the kill`);

    // Both gateways answer again, and every execution started before the kill finishes.
    await expect.poll(async () => (await b.get(`/pipelines/${name}`)).status, { timeout: 30_000 }).toBe(200);
    for (const id of ids) {
      const view = await a.waitFor(id, ['Succeeded', 'Failed'], 120_000);
      const errors = view.stages.flatMap((s) => s.actions.map((x) => x.error)).filter((e) => e !== null);
      expect({ id, status: view.status, errors }).toEqual({ id, status: 'Succeeded', errors: [] });
    }
    expect(await a.trigger(name)).toMatch(new RegExp(`^${name}-`));
  });
});
