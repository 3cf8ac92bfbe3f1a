/**
 * Config-wide change freezes: the config file's `freezes` hold every pipeline of the deployment, those that
 * existed before the freeze was configured (a gateway gives them to every coordinator when it starts) and
 * those created after (with their PUT), QUEUED and PARALLEL alike; at the freeze's end the waiting executions
 * enter by themselves. Its own Paso processes (one without the freeze, then one with it) on a task queue of
 * their own, so no other test is frozen.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { PipelineState } from '../../src/shared/pipeline-state.js';
import { Api, uniqueName } from '../support/api.js';
import { Gates } from '../support/gates.js';
import { PasoProcess } from '../support/paso-process.js';
import { TEST_USERS } from '../support/users.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-config-freezes-'));
const taskQueue = uniqueName('freezes-queue');
let paso: PasoProcess | undefined;
afterAll(async () => {
  await paso?.stop();
});

function start(config: object, label: string): Promise<PasoProcess> {
  const configFile = path.join(workDir, `${label}.json`);
  writeFileSync(configFile, JSON.stringify({ users: TEST_USERS, ...config }));
  return PasoProcess.start({
    temporalAddress: inject('temporalAddress'),
    dataDir: path.join(workDir, 'data'),
    configFile,
    taskQueue,
    logFile: path.join(workDir, `${label}.log`),
  });
}

describe('config-wide freezes', () => {
  it('hold every pipeline, old and new, QUEUED and PARALLEL, until the config lifts them', async () => {
    const gates = new Gates();
    const stages = [{ name: 'Deploy', actions: [{ name: 'ship', type: 'command', run: gates.script('deploy') }] }];
    const before = uniqueName('frozen-old');
    const after = uniqueName('frozen-new');

    paso = await start({}, 'unfrozen');
    let api = new Api(paso.url);
    await api.pipeline({ name: before, executionMode: 'QUEUED', stages });
    await paso.stop();

    const ends = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000).toISOString();
    const freeze = { from: new Date(Date.now() - 60_000).toISOString(), to: ends, reason: 'company-wide freeze' };
    paso = await start({ freezes: [freeze] }, 'frozen');
    api = new Api(paso.url);
    await api.pipeline({ name: after, executionMode: 'PARALLEL', stages });
    // The gateway gives the existing pipeline the freeze as it starts, in the background; the new one gets it
    // with its PUT.
    const shut = async (name: string) =>
      (await api.get<PipelineState>(`/pipelines/${name}/state`)).body.stages[0]!.window;
    await expect
      .poll(() => shut(before), { timeout: 20_000, interval: 200 })
      .toEqual({ reason: 'company-wide freeze', opensAt: ends });
    expect(await shut(after)).toEqual({ reason: 'company-wide freeze', opensAt: ends });

    const ids = [await api.trigger(before), await api.trigger(after)];
    for (const id of ids) {
      await expect
        .poll(async () => (await api.execution(id)).waiting, { timeout: 20_000, interval: 200 })
        .toEqual({ stage: 'Deploy', for: 'WINDOW', opensAt: ends });
    }
    await paso.stop();
    expect(gates.events()).toEqual([]);

    // The freeze is taken out of the config: a gateway starting lifts it, and the held executions go on.
    paso = await start({ freezes: [] }, 'thawed');
    api = new Api(paso.url);
    for (const id of ids) expect((await api.waitFor(id, ['Succeeded', 'Failed'], 45_000)).status).toBe('Succeeded');
    expect(
      gates
        .intervals('deploy')
        .map((r) => r.executionId)
        .sort(),
    ).toEqual([...ids].sort());
    expect(await shut(before)).toBeNull();
  }, 150_000);
});
