import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';

/** A Paso process of this file's own, on its own task queue, so killing it disturbs no other test. */
describe('a restart of worker and gateway mid-execution', () => {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-restart-'));
  let paso: PasoProcess;
  let api: Api;

  beforeAll(async () => {
    paso = await PasoProcess.start({
      temporalAddress: inject('temporalAddress'),
      dataDir: path.join(workDir, 'data'),
      configFile: inject('configFile'),
      taskQueue: 'paso-restart',
      logFile: path.join(workDir, 'paso.log'),
    });
    api = new Api(paso.url);
  });
  afterAll(() => paso?.stop());

  it('loses nothing when the process is killed (SIGKILL) during a wait', async () => {
    const name = uniqueName('restart');
    await api.pipeline({
      name,
      stages: [
        { name: 'Build', actions: [{ name: 'compile', type: 'command', run: 'echo built' }] },
        { name: 'Soak', actions: [{ name: 'soak', type: 'wait', seconds: 4 }] },
        { name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: 'echo shipped' }] },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(async () => (await api.execution(id)).stages[1]!.status, { timeout: 20_000 }).toBe('InProgress');

    await paso.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 5_000)); // the timer fires while nobody is there
    await paso.start();

    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(view.stages.map((s) => s.status)).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    expect(view.stages[0]!.actions[0]!.outputTail).toBe('built');
    expect(view.stages[2]!.actions[0]!.outputTail).toBe('shipped');
  });

  it('keeps an approval waiting across a restart, and takes the decision after it', async () => {
    const name = uniqueName('approval-restart');
    await api.pipeline({
      name,
      stages: [
        {
          name: 'Release',
          actions: [
            { name: 'go-live', type: 'approval', approvers: { users: ['dave'], groups: [] }, runOrder: 1 },
            { name: 'ship', type: 'command', run: 'echo shipped', runOrder: 2 },
          ],
        },
      ],
    });
    const id = await api.trigger(name);
    await expect
      .poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor, { timeout: 20_000 })
      .toBe('approval');

    await paso.stop('SIGKILL');
    await paso.start();
    const approved = await api
      .as('dave')
      .post(`/executions/${id}/approvals`, { stage: 'Release', action: 'go-live', decision: 'approve' });
    expect(approved.status).toBe(200);
    const view = await api.waitFor(id);
    expect(view.status).toBe('Succeeded');
    expect(view.stages[0]!.actions[1]!.outputTail).toBe('shipped');
  });

  it('drains on SIGTERM: the running command finishes before the process exits, and the execution goes on', async () => {
    const name = uniqueName('drain');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-drain-'));
    const run = `echo start >> ${dir}/starts; sleep 4; echo done >> ${dir}/done`;
    await api.pipeline({
      name,
      stages: [
        { name: 'Long', actions: [{ name: 'job', type: 'command', run, timeoutSeconds: 120 }] },
        { name: 'After', actions: [{ name: 'next', type: 'command', run: 'echo after' }] },
      ],
    });
    const id = await api.trigger(name);
    await expect.poll(() => existsSync(`${dir}/starts`), { timeout: 20_000 }).toBe(true);

    // The worker takes no more work, lets the command end (it has 25 s), then the process exits.
    expect(await paso.stop('SIGTERM')).toBe(0);
    expect(readFileSync(`${dir}/done`, 'utf8').trim().split('\n')).toHaveLength(1);

    await paso.start();
    const view = await api.waitFor(id, ['Succeeded', 'Failed'], 60_000);
    expect(view.status).toBe('Succeeded');
    expect(view.stages[1]!.actions[0]!.outputTail).toBe('after');
    // It ran once: nothing was started again.
    expect(readFileSync(`${dir}/starts`, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
