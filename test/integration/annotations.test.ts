/** Annotations and the timeline: what people add to an execution, at any time, next to its own events. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { tokenOf } from '../support/users.js';

const api = new Api();

async function upload(id: string, content: Buffer, name: string, text?: string) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(content)], { type: 'text/plain' }), name);
  if (text) form.append('text', text);
  const res = await fetch(`${inject('pasoUrl')}/executions/${id}/annotations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenOf('bob')}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { id?: string; detail?: string } };
}

describe('annotations', () => {
  it('are added by operators during and after the execution, listed with who and when, and in the timeline', async () => {
    const name = uniqueName('annotate');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Deploy',
          actions: [
            { name: 'hold', type: 'pause' },
            { name: 'ship', type: 'command', run: 'true', runOrder: 2 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor).toBe('resume');

    const during = await api
      .as('bob')
      .post<{ id: string }>(`/executions/${id}/annotations`, { kind: 'comment', text: 'waiting for the DB team' });
    expect(during.status).toBe(201);
    expect((await api.as('carol').post(`/executions/${id}/annotations`, { kind: 'comment', text: 'x' })).status).toBe(
      403,
    );
    expect((await api.as('bob').post(`/executions/${id}/annotations`, { kind: 'shout', text: 'x' })).status).toBe(400);

    await api.as('bob').post(`/executions/${id}/resume`, { stage: 'Deploy', action: 'hold' });
    expect((await api.waitFor(id)).status).toBe('Succeeded');

    const after = await api
      .as('alice')
      .post(`/executions/${id}/annotations`, { kind: 'log', text: 'smoke tests green' });
    expect(after.status).toBe(201);

    const listed = await api
      .as('carol')
      .get<{ id: string; kind: string; text: string; by: string; at: string }[]>(`/executions/${id}/annotations`);
    expect(listed.body.map((a) => [a.kind, a.text, a.by])).toEqual([
      ['comment', 'waiting for the DB team', 'bob'],
      ['log', 'smoke tests green', 'alice'],
    ]);

    const timeline = (await api.get<{ type: string; at: string; by?: string }[]>(`/executions/${id}/timeline`)).body;
    const types = timeline.map((e) => e.type);
    expect(types[0]).toBe('triggered');
    expect(types.indexOf('annotation-comment')).toBeGreaterThan(types.indexOf('action-started'));
    expect(types.indexOf('annotation-comment')).toBeLessThan(types.indexOf('resume'));
    expect(types.indexOf('annotation-log')).toBeGreaterThan(types.indexOf('execution-succeeded'));
    const times = timeline.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('attach files: stored by content hash, downloaded back whole, refused over the size limit', async () => {
    const name = uniqueName('attach');
    await api.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
    const id = await api.trigger(name);
    await api.waitFor(id);

    const content = Buffer.from(`deploy report\n${'line\n'.repeat(1000)}`);
    const added = await upload(id, content, 'report.txt', 'the report');
    expect(added.status).toBe(201);
    const listed = (
      await api.get<
        { id: string; kind: string; text: string; file: { name: string; size: number; sha256: string; url: string } }[]
      >(`/executions/${id}/annotations`)
    ).body;
    expect(listed).toEqual([
      expect.objectContaining({
        kind: 'attachment',
        text: 'the report',
        file: {
          name: 'report.txt',
          size: content.length,
          sha256: createHash('sha256').update(content).digest('hex'),
          url: `/executions/${id}/annotations/${added.body.id}/file`,
        },
      }),
    ]);
    const download = await fetch(`${inject('pasoUrl')}${listed[0]!.file.url}`, {
      headers: { authorization: `Bearer ${tokenOf('carol')}` },
    });
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(content)).toBe(true);

    const tooBig = await upload(id, Buffer.alloc(10 * 1024 * 1024 + 1, 1), 'huge.bin');
    expect(tooBig.status).toBe(413);
    expect((await api.get<unknown[]>(`/executions/${id}/annotations`)).body).toHaveLength(1);
    expect((await api.as('bob').post('/executions/no-such-1/annotations', { kind: 'comment', text: 'x' })).status).toBe(
      404,
    );
  });
});
