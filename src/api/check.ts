/**
 * CHECK (Clarive): the pipeline's `check` commands run when an execution is requested, before it exists,
 * while the requester waits. Run by the gateway, with the same process runner as command actions; nothing
 * of Temporal is touched, so a refusal leaves no workflow, no execution number and no lock behind. Their
 * output is kept under `$PASO_DATA_DIR/checks/<pipeline>/`.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { runScript } from '../process-runner.js';
import type { PipelineDefinition, Variables } from '../shared/definition.js';
import { runOrderGroups } from '../workflows/execution-state.js';

export interface CheckResult {
  name: string;
  status: 'Succeeded' | 'Failed' | 'NotRun';
  /** The end of the check's output, and how it ended. */
  output: string;
}

/** Runs the checks by `runOrder` group; a group with a failure stops the others from running. */
export async function runChecks(
  definition: PipelineDefinition,
  variables: Variables,
  dataDir: string,
): Promise<CheckResult[]> {
  const dir = path.join(dataDir, 'checks', definition.name, `${Date.now()}-${randomUUID().slice(0, 8)}`);
  const results: CheckResult[] = [];
  let failed = false;
  for (const group of runOrderGroups(definition.check)) {
    if (failed) {
      results.push(...group.map((c) => ({ name: c.name, status: 'NotRun' as const, output: '' })));
      continue;
    }
    const ran = await Promise.all(
      group.map(async (check) => {
        const result = await runScript({
          script: check.run,
          env: { ...variables, PASO_PIPELINE: definition.name, PASO_CHECK: check.name },
          cwd: dir,
          logPath: path.join(dir, `${check.name}.log`),
          label: 'check',
          timeoutSeconds: check.timeoutSeconds,
          killGraceMs: 2_000,
        });
        const output = result.ok ? result.outputTail : `${result.outputTail}\n(${result.description})`.trim();
        return { name: check.name, status: result.ok ? ('Succeeded' as const) : ('Failed' as const), output };
      }),
    );
    results.push(...ran);
    failed = ran.some((r) => r.status === 'Failed');
  }
  return results;
}
