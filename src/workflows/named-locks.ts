/**
 * The named locks (resource groups) of the whole deployment, in one workflow (`paso-named-locks`), so that a
 * stage's locks are granted all at once (see {@link NamedLockTable} for the rules). Executions ask through an
 * activity that starts this workflow if it is not running, are answered by signal, and give their locks back
 * by signal; a watcher activity frees what executions that ended without saying so (terminated, timed out)
 * held or waited for. It continues-as-new when its history grows; started afresh after a termination, it first
 * recovers the terminated run's state (dropping executions that moved on meanwhile). In the Temporal UI, its current details
 * list each lock with its holders and waiters; `GET /locks` reads them by query.
 */
import {
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  acquireLocksSignal,
  lockSupersededSignal,
  locksGrantedSignal,
  locksWaitSignal,
  namedLockDataQuery,
  namedLocksQuery,
  releaseLocksSignal,
  watchedExecutionsQuery,
} from '../shared/messages.js';
import { executionWorkflowId } from '../shared/temporal.js';
import { setCheckedSignalHandler } from './guard.js';
import type { NamedLockData, NamedLockEffect } from './named-lock-table.js';
import { NamedLockTable } from './named-lock-table.js';
import { runUntilContinueAsNew, watchExecutions } from './watching.js';

export interface NamedLocksInput {
  /** The state carried over by continue-as-new. */
  restored?: NamedLockData;
}

const { recoverNamedLocks } = proxyActivities<Activities>({
  summary: 'recover the named locks of a terminated run',
  startToCloseTimeout: '10m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

export async function namedLocks(input: NamedLocksInput = {}): Promise<void> {
  const now = () => new Date().toISOString();
  // Started afresh: what a terminated run held and who waited are recovered first (below); meanwhile requests
  // wait, in order. With no earlier run, tokens start from now (ms).
  let table = input.restored ? new NamedLockTable(input.restored) : NamedLockTable.create(Date.now());
  let ready = input.restored !== undefined;
  const whenReady = (fn: () => void) => (ready ? fn() : condition(() => ready).then(fn));

  let signalsInFlight = 0;
  const dispatch = (effects: NamedLockEffect[]): void => {
    for (const effect of effects) {
      signalsInFlight += 1;
      CancellationScope.nonCancellable(() => send(effect))
        // An execution that cannot be told is gone: what it held or waited for goes to the next.
        .catch(() => dispatch(table.release(effect.executionId, null, now())))
        .finally(() => (signalsInFlight -= 1));
    }
    describe();
  };
  /** The Temporal UI's current details: each lock, its holders and how many wait. */
  const describe = () =>
    setCurrentDetails(
      table
        .view()
        .map((l) => {
          const held = l.holders.map((h) => `${h.executionId}/${h.stage}${h.mode === 'shared' ? ' (shared)' : ''}`);
          return `**${l.name}** (${l.order}, token ${l.token}): ${held.join(', ') || 'free'}; ${l.waiters.length} waiting`;
        })
        .join('\n') || 'No named lock has been asked for yet.',
    );

  setHandler(namedLocksQuery, () => table.view());
  setHandler(namedLockDataQuery, () => table.toJSON());
  setHandler(watchedExecutionsQuery, () => table.watched());
  setCheckedSignalHandler(acquireLocksSignal, 'acquireLocks', (request) =>
    whenReady(() => dispatch(table.acquire(request, now()))),
  );
  setCheckedSignalHandler(releaseLocksSignal, 'releaseLocks', ({ executionId, stage }) =>
    whenReady(() => dispatch(table.release(executionId, stage ?? null, now()))),
  );

  if (!ready) {
    const recovered = await recoverNamedLocks({ workflowId: workflowInfo().workflowId });
    if (recovered) {
      table = new NamedLockTable(recovered.data);
      table.raiseTokens(Date.now());
      for (const { executionId, stage } of recovered.stale) dispatch(table.release(executionId, stage, now()));
    }
    ready = true;
  }
  describe();

  await runUntilContinueAsNew(
    async () => {
      for (;;) {
        await condition(() => table.watched().length > 0);
        const gone = await watchExecutions({ coordinatorWorkflowId: workflowInfo().workflowId, kind: 'named-locks' });
        for (const executionId of gone) dispatch(table.release(executionId, null, now()));
      }
    },
    () => signalsInFlight === 0,
  );
  await continueAsNew<typeof namedLocks>({ restored: table.toJSON() });
}

async function send(effect: NamedLockEffect): Promise<void> {
  const execution = getExternalWorkflowHandle(executionWorkflowId(effect.executionId));
  switch (effect.type) {
    case 'grant':
      return execution.signal(locksGrantedSignal, { stage: effect.stage, tokens: effect.tokens });
    case 'wait':
      return execution.signal(locksWaitSignal, { stage: effect.stage, lock: effect.lock, heldBy: effect.heldBy });
    case 'supersede':
      return execution.signal(lockSupersededSignal, { stage: effect.stage, lock: effect.lock, by: effect.by });
  }
}
