/**
 * The baselines the benchmark compares Paso with: plain Temporal workflows doing the same work with no
 * Paso around them. Bundled by the benchmark's own worker; not part of Paso.
 */
import { condition, defineSignal, getExternalWorkflowHandle, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../src/activities/index.js';

const { runCommand } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '60s', // as Paso's executions have by default (PASO_HEARTBEAT_TIMEOUT_SECONDS)
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: { maximumAttempts: 1 },
});

export const goSignal = defineSignal('go');

export interface BareInput {
  executionId: string;
  run: string;
}

/** Waits for `go` (unless first), runs one command, then tells the next workflow of the chain to go. */
export async function bareChain(input: BareInput & { first: boolean; next: string | null }): Promise<void> {
  let go = input.first;
  setHandler(goSignal, () => void (go = true));
  await condition(() => go);
  await runCommand(command(input, 'S', 'a'));
  if (input.next) await getExternalWorkflowHandle(input.next).signal(goSignal);
}

/** Three no-op activities in a row: what a 3-stage PARALLEL execution does, without Paso. */
export async function bareThree(input: BareInput): Promise<void> {
  for (const stage of ['S1', 'S2', 'S3']) await runCommand(command(input, stage, 'a'));
}

function command(input: BareInput, stage: string, action: string) {
  return {
    executionId: input.executionId,
    pipeline: 'bare',
    stage,
    action,
    run: input.run,
    variables: {},
    timeoutSeconds: 60,
  };
}
