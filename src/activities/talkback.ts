/**
 * Talkback (Clarive): a command from the config file that a permitted person asked to run on an execution's
 * behalf, usually from its chat channel. It runs like a command action (the execution's workspace and
 * variables, its own process group, heartbeats), and leaves its output as an annotation of the execution:
 * the end of it in the text, the whole log attached.
 */
import { readFile } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/activity';
import { logPath, talkbackLogKey } from '../data-dir.js';
import type { Variables } from '../shared/definition.js';
import type { CommandOutcome } from '../workflows/execution-state.js';
import type { CommandDeps } from './command.js';
import { runInWorkspace } from './command.js';

export interface RunTalkbackActivityInput {
  executionId: string;
  pipeline: string;
  /** The run's id within the execution (`tb-1`, …). */
  id: string;
  name: string;
  run: string;
  by: string;
  variables: Variables;
  timeoutSeconds: number;
  secrets?: string[];
}

/** The largest log attached to the annotation whole; a longer one is attached from its end. */
const ATTACHED_LOG_BYTES = 1024 * 1024;

export async function runTalkback(deps: CommandDeps, input: RunTalkbackActivityInput): Promise<CommandOutcome> {
  const logKey = talkbackLogKey(input.executionId, input.id);
  const file = logPath(deps.dataDir, logKey);
  let outcome: CommandOutcome | undefined;
  let failure: ApplicationFailure | undefined;
  try {
    outcome = await runInWorkspace(deps, {
      executionId: input.executionId,
      pipeline: input.pipeline,
      run: input.run,
      variables: input.variables,
      env: { PASO_TALKBACK: input.name, PASO_TALKBACK_BY: input.by },
      logKey,
      timeoutSeconds: input.timeoutSeconds,
      where: { talkback: input.id },
      secrets: input.secrets,
    });
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err; // cancelled: nothing to report
    failure = err;
    outcome = err.details?.[0] as CommandOutcome | undefined;
  }
  const log = await readFile(file).catch(() => Buffer.alloc(0));
  const summary = failure ? failure.message : `exited with code ${outcome?.exitCode ?? 0}`;
  // One annotation per run, however often Temporal runs this activity.
  await deps.store.annotations.add(
    input.executionId,
    {
      id: `talkback-${input.id}`,
      kind: 'log',
      by: input.by,
      text: `Talkback ${input.name} (${input.id}) ${summary}\n${outcome?.outputTail ?? ''}`.trimEnd(),
    },
    {
      name: `talkback-${input.name}-${input.id}.log`,
      contentType: 'text/plain; charset=utf-8',
      content: log.subarray(Math.max(0, log.length - ATTACHED_LOG_BYTES)),
    },
  );
  if (failure) throw failure;
  return outcome!;
}
