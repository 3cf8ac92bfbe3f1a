/**
 * CHECK from the gateway's side: a trigger request whose pipeline has checks starts the `check` workflow
 * (see `src/workflows/check.ts`) and waits for its answer, so the checks run on a worker, where commands run,
 * and never in the gateway process.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { CheckResult } from '../shared/check.js';
import { checkWorkflowId } from '../shared/check.js';
import type { PipelineDefinition, Variables } from '../shared/definition.js';
import { PasoPipeline } from '../shared/temporal.js';
import type { check } from '../workflows/check.js';
import { runOrderGroups } from '../workflows/execution-state.js';

export async function runChecks(
  client: Client,
  taskQueue: string,
  definition: PipelineDefinition,
  variables: Variables,
): Promise<CheckResult[]> {
  // The longest the checks can take: each group as long as its slowest check, plus time to be picked up.
  const seconds = runOrderGroups(definition.check).reduce(
    (sum, group) => sum + Math.max(...group.map((c) => c.timeoutSeconds)) + 60,
    60,
  );
  return client.workflow.execute<typeof check>('check', {
    workflowId: checkWorkflowId(definition.name, randomUUID()),
    taskQueue,
    args: [{ pipeline: definition.name, checks: definition.check, variables }],
    workflowExecutionTimeout: `${seconds}s`,
    typedSearchAttributes: [{ key: PasoPipeline, value: definition.name }],
    staticSummary: `CHECK of a trigger of pipeline ${definition.name}`,
  });
}
