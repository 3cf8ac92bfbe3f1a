import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { Paso } from '../../src/api/paso.js';
import { Api, uniqueName } from '../support/api.js';

const api = new Api();
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'paso-exec-'));
const ms = (iso: string | null) => Date.parse(iso ?? '');

describe('an execution', () => {
  it('runs two stages in order and succeeds', async () => {
    const name = uniqueName('two-stages');
    await api.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'echo compiled' }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'echo shipped' }] },
      ],
    });
    const id = await api.trigger(name);
    expect(id).toBe(`${name}-1`);

    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(view.trigger.by).toBe('bob');
    expect(view.stages.map((s) => [s.name, s.status])).toEqual([
      ['Build', 'Succeeded'],
      ['Deploy', 'Succeeded'],
    ]);
    const [build, deploy] = view.stages;
    expect(ms(deploy!.startedAt)).toBeGreaterThanOrEqual(ms(build!.endedAt));
    expect(build!.actions[0]).toMatchObject({ status: 'Succeeded', attempt: 1, exitCode: 0, outputTail: 'compiled' });
    expect(view.endedAt).not.toBeNull();

    const log = await api.get(`/executions/${id}/logs/Deploy/ship`);
    expect(log.status).toBe(200);
    expect(log.contentType).toMatch(/^text\/plain/);
    expect(log.text).toContain('shipped');

    const listed = await api.as('carol').get(`/pipelines/${name}/executions`);
    expect(listed.body).toEqual({
      executions: [expect.objectContaining({ executionId: id, status: 'Succeeded' })],
      nextCursor: null,
    });
  });

  it('fails the stage and the execution when a command fails, with the error visible and later stages not run', async () => {
    const name = uniqueName('failing');
    const dir = tmp();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Build',
          actions: [
            { name: 'broken', type: 'command', run: 'echo "about to fail" >&2; exit 3', runOrder: 1 },
            { name: 'never', type: 'command', run: `touch ${dir}/never`, runOrder: 2 },
          ],
        },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: `touch ${dir}/shipped` }] },
      ],
    });
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Failed');
    expect(view.error).toContain('Build/broken');
    expect(view.stages[0]!.status).toBe('Failed');
    expect(view.stages[0]!.actions[0]).toMatchObject({
      status: 'Failed',
      exitCode: 3,
      error: 'exited with code 3',
      outputTail: 'about to fail',
    });
    expect(view.stages[0]!.actions[1]!.status).toBeNull();
    expect(view.stages[1]!.status).toBeNull();
    expect(existsSync(`${dir}/never`)).toBe(false);
    expect(existsSync(`${dir}/shipped`)).toBe(false);

    const failed = await api.get<{ executions: { executionId: string }[] }>(
      `/pipelines/${name}/executions?status=Failed`,
    );
    expect(failed.body.executions.map((e) => e.executionId)).toEqual([view.executionId]);
    const succeeded = await api.get(`/pipelines/${name}/executions?status=Succeeded`);
    expect(succeeded.body).toEqual({ executions: [], nextCursor: null });
  });

  it('goes on past a failed action whose onError is ignore, recording the failure', async () => {
    const name = uniqueName('ignore');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Check',
          actions: [
            { name: 'flaky', type: 'command', run: 'exit 1', onError: 'ignore', runOrder: 1 },
            { name: 'after', type: 'command', run: 'echo after', runOrder: 2 },
          ],
        },
      ],
    });
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Succeeded');
    expect(view.stages[0]!.actions.map((a) => a.status)).toEqual(['Failed', 'Succeeded']);
  });

  it('kills a command that exceeds timeoutSeconds and fails the action', async () => {
    const name = uniqueName('timeout');
    const dir = tmp();
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Slow',
          actions: [{ name: 'hang', type: 'command', run: `sleep 30; touch ${dir}/late`, timeoutSeconds: 1 }],
        },
      ],
    });
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Failed');
    expect(view.stages[0]!.actions[0]!.error).toBe('timed out after 1s');
    expect(ms(view.stages[0]!.actions[0]!.endedAt) - ms(view.stages[0]!.actions[0]!.startedAt)).toBeLessThan(10_000);
    expect(existsSync(`${dir}/late`)).toBe(false);
  });

  it('waits a durable timer for a wait action', async () => {
    const name = uniqueName('wait');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Soak',
          actions: [
            { name: 'soak', type: 'wait', seconds: 2, runOrder: 1 },
            { name: 'after', type: 'command', run: 'true', runOrder: 2 },
          ],
        },
      ],
    });
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Succeeded');
    const [soak, after] = view.stages[0]!.actions;
    expect(soak!.status).toBe('Succeeded');
    expect(ms(soak!.endedAt) - ms(soak!.startedAt)).toBeGreaterThanOrEqual(2_000);
    expect(ms(after!.startedAt)).toBeGreaterThanOrEqual(ms(soak!.endedAt));
  });

  it('runs the actions of one runOrder in parallel and the next group after them', async () => {
    const name = uniqueName('parallel');
    const dir = tmp();
    // Each command records when it really ran (epoch ms), from inside the process.
    const stamp = (label: string) =>
      `echo "${label} start $(date +%s%3N)" >> ${dir}/t; sleep 1.5; echo "${label} end $(date +%s%3N)" >> ${dir}/t`;
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Test',
          actions: [
            { name: 'a', type: 'command', run: stamp('a'), runOrder: 1 },
            { name: 'b', type: 'command', run: stamp('b'), runOrder: 1 },
            { name: 'c', type: 'command', run: stamp('c'), runOrder: 2 },
          ],
        },
      ],
    });
    const view = await api.waitFor(await api.trigger(name));
    expect(view.status).toBe('Succeeded');
    const t = Object.fromEntries(
      readFileSync(`${dir}/t`, 'utf8')
        .trim()
        .split('\n')
        .map((line) => {
          const [label, what, at] = line.split(' ');
          return [`${label}.${what}`, Number(at)];
        }),
    ) as Record<string, number>;
    // a and b overlap: each started before the other ended.
    expect(t['a.start']!).toBeLessThan(t['b.end']!);
    expect(t['b.start']!).toBeLessThan(t['a.end']!);
    // c started only after both had ended.
    expect(t['c.start']!).toBeGreaterThanOrEqual(Math.max(t['a.end']!, t['b.end']!));
  });

  it('passes variables as environment, never as script text', async () => {
    const name = uniqueName('variables');
    const dir = tmp();
    await api.pipeline({
      name,
      variables: { TARGET: 'staging', PAYLOAD: 'unset' },
      stages: [
        {
          name: 'Env',
          actions: [
            {
              name: 'print',
              type: 'command',
              run: `cd ${dir} && printf '%s|%s|%s' "$TARGET" "$PAYLOAD" "$PASO_EXECUTION_ID" > out`,
            },
          ],
        },
      ],
    });
    const id = await api.trigger(name, { variables: { PAYLOAD: '$(touch pwned); `touch pwned2`' } });
    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(view.variables).toEqual({ TARGET: 'staging', PAYLOAD: '$(touch pwned); `touch pwned2`' });
    expect(readFileSync(`${dir}/out`, 'utf8')).toBe(`staging|$(touch pwned); \`touch pwned2\`|${id}`);
    expect(existsSync(`${dir}/pwned`)).toBe(false);
    expect(existsSync(`${dir}/pwned2`)).toBe(false);
  });

  it('gives the same execution for the same idempotencyKey', async () => {
    const name = uniqueName('idem');
    await api.pipeline({
      name,
      variables: { V: '0' },
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    const body = { idempotencyKey: 'release-7', variables: { V: '1' } };
    const first = await api.as('bob').post<{ executionId: string }>(`/pipelines/${name}/executions`, body);
    const again = await api.as('bob').post<{ executionId: string }>(`/pipelines/${name}/executions`, body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.executionId).toBe(first.body.executionId);
    const other = await api.as('bob').post<{ executionId: string }>(`/pipelines/${name}/executions`, {});
    expect(other.status).toBe(201);
    expect(other.body.executionId).toBe(`${name}-2`);
  });

  it('answers 201 to the trigger whose key made the execution, even when a twin of it started it first', async () => {
    const name = uniqueName('twin');
    await api.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    try {
      // A second gateway with the same key, told the execution was cut short, starts it in the instant between
      // this gateway's allocation and its own start (what the repeat does: the same id, USE_EXISTING).
      let twins = 0;
      const starter = {
        workflow: {
          start: async (type: string, options: WorkflowStartOptions) => {
            // A plain client here (no worker on its connection): no eager start.
            const plain = { ...options, requestEagerStart: false };
            if (twins++ === 0)
              await client.workflow.start(type, { ...plain, workflowIdConflictPolicy: 'USE_EXISTING' });
            return client.workflow.start(type, plain);
          },
        },
      } as unknown as Client;
      const gateway = new Paso(client, 'paso-test', { notificationUrl: null, publicUrl: '', talkback: [], starter });
      const made = await gateway.trigger(name, { idempotencyKey: 'twin-1' }, 'bob');
      expect(twins).toBe(1);
      expect(made).toEqual({ executionId: `${name}-1`, status: 'InProgress', created: true });
      expect((await api.waitFor(made.executionId)).status).toBe('Succeeded');
      // Nothing was withdrawn or counted twice: the next trigger takes the next number.
      expect(await api.trigger(name)).toBe(`${name}-2`);
    } finally {
      await client.connection.close();
    }
  });

  it('keeps running on the definition version it started with', async () => {
    const name = uniqueName('versions');
    const def = (msg: string) => ({
      name,
      stages: [
        {
          name: 'S',
          actions: [
            { name: 'hold', type: 'wait', seconds: 2, runOrder: 1 },
            { name: 'say', type: 'command', run: `echo ${msg}`, runOrder: 2 },
          ],
        },
      ],
    });
    expect(await api.pipeline(def('one'))).toBe(1);
    const id = await api.trigger(name);
    expect(await api.pipeline(def('two'))).toBe(2);
    const view = await api.waitFor(id);
    expect(view.pipelineVersion).toBe(1);
    expect(view.stages[0]!.actions[1]!.outputTail).toBe('one');
    const next = await api.waitFor(await api.trigger(name));
    expect(next.pipelineVersion).toBe(2);
    expect(next.stages[0]!.actions[1]!.outputTail).toBe('two');
  });
});

describe("following an action's log", () => {
  it('streams the output as it is written and ends when the action ends', async () => {
    const name = uniqueName('follow');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'S',
          actions: [
            { name: 'a', type: 'command', run: 'for i in 1 2 3 4 5 6 7 8; do echo "line $i"; sleep 0.3; done' },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    const { res, text, statusAtFirstLine } = await api.followLog(id, 'S', 'a', 'line 1\n');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    // The first line arrived while the command still ran; the stream ended once it had ended, with all of it.
    expect(statusAtFirstLine).toBe('InProgress');
    expect(text).toMatch(/line 1\n[^]*line 8\n=== \S+ exited with code 0\n$/);
    expect((await api.execution(id)).stages[0]!.actions[0]!.status).toBe('Succeeded');
  });

  it('refuses a follow value it does not know, with the path', async () => {
    const name = uniqueName('follow-bad');
    await api.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const id = await api.trigger(name);
    const r = await api.get(`/executions/${id}/logs/S/a?follow=yes`);
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain('"path":"query.follow"');
  });
});

describe("a pipeline's executions", () => {
  it('are listed newest first in pages, with a status filter, each page leading to the next', async () => {
    const name = uniqueName('paging');
    await api.pipeline({
      name,
      executionMode: 'PARALLEL',
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'test "$OUTCOME" = ok', onError: 'fail' }] }],
      variables: { OUTCOME: 'ok' },
    });
    const ids: string[] = [];
    for (let i = 1; i <= 7; i++)
      ids.push(await api.trigger(name, { variables: { OUTCOME: i % 3 === 0 ? 'no' : 'ok' } }));
    for (const id of ids) await api.waitFor(id);
    type Page = { executions: { executionId: string; status: string }[]; nextCursor: string | null };
    const all = async (query: string) => {
      const pages: string[][] = [];
      let url = `/pipelines/${name}/executions?${query}`;
      for (;;) {
        const page = (await api.get<Page>(url)).body;
        pages.push(page.executions.map((e) => e.executionId));
        if (!page.nextCursor) return pages;
        url = `/pipelines/${name}/executions?${query}&cursor=${encodeURIComponent(page.nextCursor)}`;
      }
    };
    // Visibility may lag the last ends by a moment.
    await expect.poll(async () => (await all('status=Succeeded&limit=50')).flat().length).toBe(5);
    const newestFirst = [...ids].reverse();
    expect(await all('limit=3')).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
    expect(await all('status=Failed&limit=1')).toEqual([[ids[5]], [ids[2]]]);
    expect((await all('status=Succeeded&limit=50')).flat()).toEqual(newestFirst.filter((_, i) => i !== 1 && i !== 4));

    const bad = await api.get<{ errors: unknown[] }>(`/pipelines/${name}/executions?cursor=not-ours`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ path: 'query.cursor', message: expect.stringContaining('cursor') }]);
  });
});
