/**
 * Stack traces in workflow code (`PASO_WORKFLOW_STACK_TRACES`): off by default, so Temporal's stack trace
 * query (the Temporal UI's "Stack Trace" tab, `temporal workflow stack`) answers with no frames; a worker run
 * with it on answers where the execution waits, in Paso's source. Both on an execution waiting for an approval.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-stack-traces-'));
let traced: PasoProcess;
let client: Client;

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  traced = await PasoProcess.start({
    temporalAddress: inject('temporalAddress'),
    dataDir: path.join(workDir, 'data'),
    configFile: inject('configFile'),
    taskQueue: 'paso-stack-traces',
    logFile: path.join(workDir, 'paso.log'),
    env: { PASO_WORKFLOW_STACK_TRACES: 'on' },
  });
});
afterAll(async () => {
  await traced?.stop();
  await client?.connection.close();
});

/** Triggers a pipeline whose only stage waits for dave's approval, and answers its stack trace query then. */
async function stackWhileWaiting(api: Api): Promise<string> {
  const name = uniqueName('stack');
  await api.pipeline({
    name,
    stages: [
      {
        name: 'Release',
        actions: [{ name: 'go-live', type: 'approval', approvers: { users: ['dave'], groups: [] } }],
      },
    ],
  });
  const id = await api.trigger(name);
  await expect
    .poll(async () => (await api.execution(id)).stages[0]!.actions[0]!.waitingFor, { timeout: 20_000 })
    .toBe('approval');
  const stack = await client.workflow.getHandle(id).query<string>('__stack_trace');
  const approved = await api
    .as('dave')
    .post(`/executions/${id}/approvals`, { stage: 'Release', action: 'go-live', decision: 'approve' });
  expect(approved.status).toBe(200);
  expect((await api.waitFor(id)).status).toBe('Succeeded');
  return stack;
}

describe('stack traces in workflow code', () => {
  it('are off by default: the stack trace query answers with no frames', async () => {
    const stack = await stackWhileWaiting(new Api());
    expect(stack).not.toMatch(/\bat /);
  });

  it('are on for a worker run with PASO_WORKFLOW_STACK_TRACES=on: the query says where it waits', async () => {
    const stack = await stackWhileWaiting(new Api(traced.url));
    expect(stack).toMatch(/at approval \(.*src\/workflows\/actions\.ts:\d+:\d+\)/);
    expect(stack).toMatch(/at runStage \(.*src\/workflows\/execution\.ts:\d+:\d+\)/);
  });
});
