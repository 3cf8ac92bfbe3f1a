/**
 * CHECK (Clarive): the pipeline's `check` commands, run when an execution is requested, before it exists,
 * while the requester waits. The gateway starts this workflow and waits for its result, so the checks run
 * where commands run (on a worker, as `runCheck` activities), never in the gateway. By `runOrder` group: a
 * group with a failure keeps the later groups from running. Nothing here touches the coordinator, so a
 * refusal leaves no execution number and no lock behind.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { CheckInput, CheckResult } from '../shared/check.js';
import type { CommandAction } from '../shared/definition.js';
import type { Activities } from '../activities/index.js';
import { runOrderGroups } from './execution-state.js';

/** Time a worker has beyond a check's own timeout to report back before Temporal gives up on it. */
const ACTIVITY_SLACK_SECONDS = 60;

export async function check(input: CheckInput): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let failed = false;
  for (const group of runOrderGroups(input.checks)) {
    if (failed) {
      results.push(...group.map((c) => ({ name: c.name, status: 'NotRun' as const, output: '' })));
      continue;
    }
    const ran = await Promise.all(group.map((c) => runOne(input, c)));
    results.push(...ran);
    failed = ran.some((r) => r.status === 'Failed');
  }
  return results;
}

function runOne(input: CheckInput, check: CommandAction): Promise<CheckResult> {
  const { runCheck } = proxyActivities<Activities>({
    summary: `check ${check.name}`,
    startToCloseTimeout: `${check.timeoutSeconds + ACTIVITY_SLACK_SECONDS}s`,
    heartbeatTimeout: '15s',
    cancellationType: 'WAIT_CANCELLATION_COMPLETED',
    // A check that fails is an answer, not an error; only a lost worker makes Temporal run it again.
    retry: { maximumAttempts: 2, initialInterval: '1s' },
  });
  return runCheck({ pipeline: input.pipeline, check, variables: input.variables });
}
