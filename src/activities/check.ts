/**
 * One CHECK command as an activity: the script runs through {@link runScript} with the pipeline's variables,
 * in a directory of its own under `$PASO_DATA_DIR/checks/<pipeline>/`, heartbeating; killed with its process
 * group on timeout or cancellation. A failing check is a result (`Failed`, with the end of its output).
 */
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { runScript } from '../process-runner.js';
import type { CheckResult } from '../shared/check.js';
import type { CommandAction, Variables } from '../shared/definition.js';
import type { CommandDeps } from './command.js';
import { commandResult, resolveSecrets } from './command.js';
import { commandDuration } from '../metrics/metrics.js';

export interface RunCheckInput {
  pipeline: string;
  check: CommandAction;
  variables: Variables;
}

/** Measured as a command of kind `check` (stage label empty: CHECK comes before any stage). */
export async function runCheck(deps: CommandDeps, input: RunCheckInput): Promise<CheckResult> {
  const started = performance.now();
  const labels = { pipeline: input.pipeline, stage: '', kind: 'check' };
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const result = await runCheckUnmeasured(deps, input);
    commandDuration.observe({ ...labels, result: result.status === 'Succeeded' ? 'succeeded' : 'failed' }, seconds());
    return result;
  } catch (err) {
    commandDuration.observe({ ...labels, result: commandResult(err) }, seconds());
    throw err;
  }
}

async function runCheckUnmeasured(deps: CommandDeps, input: RunCheckInput): Promise<CheckResult> {
  const ctx = Context.current();
  // The check workflow's id ends with the request's own id: one directory per trigger request.
  const request = ctx.info.workflowExecution?.workflowId.split(':').at(-1) ?? 'unknown';
  const dir = path.join(deps.dataDir, 'checks', input.pipeline, request);
  const secrets = await resolveSecrets(deps, input.check.secrets, input.pipeline);
  const result = await runScript({
    script: input.check.run,
    variables: input.variables,
    secrets,
    env: { PASO_PIPELINE: input.pipeline, PASO_CHECK: input.check.name },
    cwd: dir,
    logPath: path.join(dir, `${input.check.name}.log`),
    label: `check, attempt ${ctx.info.attempt}`,
    timeoutSeconds: input.check.timeoutSeconds,
    killGraceMs: deps.killGraceMs,
    logLimitBytes: deps.logLimitBytes,
    signal: ctx.cancellationSignal,
    onTick: () => ctx.heartbeat(),
    tickMs: deps.heartbeatMs,
  });
  if (result.killedFor === 'abort') throw ctx.cancellationSignal.reason;
  const output = result.ok ? result.outputTail : `${result.outputTail}\n(${result.description})`.trim();
  return { name: input.check.name, status: result.ok ? 'Succeeded' : 'Failed', output };
}
