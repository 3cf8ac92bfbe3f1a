/**
 * An execution's request for the named locks its stage needs, sent to the `paso-named-locks` workflow with
 * signal-with-start: the first request of a deployment (or the first after that workflow was terminated)
 * starts it. The answer comes back to the execution by signal. Sending the same request twice (a retried
 * activity) is harmless: the locks repeat their answer.
 */
import type { Client } from '@temporalio/client';
import type { AcquireLocksInput } from '../shared/messages.js';
import { acquireLocksSignal } from '../shared/messages.js';
import { namedLocksWorkflowId } from '../shared/named-locks.js';
import type { namedLocks } from '../workflows/named-locks.js';

export interface NamedLocksDeps {
  client: Client;
  /** Paso's workflow task queue, where the named locks' workflow runs. */
  taskQueue: string;
}

export async function requestNamedLocks(deps: NamedLocksDeps, input: AcquireLocksInput): Promise<void> {
  await deps.client.workflow.signalWithStart<typeof namedLocks, [AcquireLocksInput]>('namedLocks', {
    workflowId: namedLocksWorkflowId(deps.taskQueue),
    taskQueue: deps.taskQueue,
    args: [{}],
    signal: acquireLocksSignal,
    signalArgs: [input],
    staticSummary: 'Named locks shared by every pipeline (resource groups)',
  });
}
