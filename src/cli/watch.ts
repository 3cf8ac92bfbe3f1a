/**
 * `--wait`: follows an execution by reading its view every half second and printing a line for each stage
 * and action whose state changed, until the execution reaches a status it does not leave by itself.
 */
import type { ExecutionView } from '../shared/execution-view.js';
import { type PasoClient, seg } from './client.js';
import { ApiError, CliError, UnreachableError } from './errors.js';
import { ExitCode, FINAL_STATUS_CODES } from './exit-codes.js';
import { clock, duration, type Output } from './output.js';
import { actionNote } from './render.js';

export interface WatchOptions {
  intervalMs?: number;
  /** Give up (exit 6) after this many seconds; the execution goes on. */
  timeoutSeconds?: number;
  /** How long the gateway may be unreachable (or answer 503) before giving up: a gateway restart is no failure. */
  outageMs?: number;
}

/** Whether the view says the execution has ended (or, Failed/Stopped, waits only for a retry). */
export const isFinal = (view: ExecutionView): boolean => FINAL_STATUS_CODES[view.status] !== undefined;

/** Prints progress until the end; returns the last view. */
export async function watchExecution(
  client: PasoClient,
  out: Output,
  executionId: string,
  { intervalMs = 500, timeoutSeconds, outageMs = 60_000 }: WatchOptions = {},
): Promise<ExecutionView> {
  const deadline = timeoutSeconds !== undefined ? Date.now() + timeoutSeconds * 1000 : Infinity;
  const seen = new Map<string, string>();
  let failingSince: number | null = null;
  for (;;) {
    let view: ExecutionView | null = null;
    try {
      view = await client.get<ExecutionView>(`/executions/${seg(executionId)}`);
      failingSince = null;
    } catch (err) {
      const transient = err instanceof UnreachableError || (err instanceof ApiError && err.problem.status === 503);
      if (!transient) throw err;
      if (failingSince === null) {
        failingSince = Date.now();
        out.note(out.paint('dim', `${clock(null)}  (${err.message}; still trying)`));
      } else if (Date.now() - failingSince > outageMs) throw err;
    }
    if (view) {
      for (const line of changes(out, view, seen)) out.note(line);
      if (isFinal(view)) return view;
    }
    if (Date.now() > deadline) {
      throw new CliError(`gave up waiting after ${timeoutSeconds}s; ${executionId} goes on`, ExitCode.WaitTimeout);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The lines describing what changed since the last view; `seen` remembers what was printed. */
export function changes(out: Output, view: ExecutionView, seen: Map<string, string>): string[] {
  const lines: string[] = [];
  const emit = (key: string, state: string, at: string | null, what: string, text: string) => {
    if (seen.get(key) === state) return;
    seen.set(key, state);
    lines.push(`${out.paint('dim', clock(at))}  ${what.padEnd(24)}  ${text}`);
  };
  if (view.waiting) {
    const waiting = `waiting for ${view.waiting.for} before ${view.waiting.stage}`;
    emit('execution:waiting', waiting, null, view.executionId, out.paint('yellow', waiting));
  } else seen.delete('execution:waiting');
  if (view.status === 'Stopping') emit('execution:status', view.status, null, view.executionId, out.status('Stopping'));
  for (const stage of view.stages) {
    if (!stage.status) continue;
    const ended = stage.status !== 'InProgress' && stage.status !== 'Stopping';
    const stageLine = () =>
      emit(
        `stage:${stage.name}`,
        stage.status!,
        ended ? stage.endedAt : stage.startedAt,
        stage.name,
        out.status(stage.status),
      );
    // A stage is announced before its actions when it starts, after them when it ends.
    if (!ended) stageLine();
    for (const a of stage.actions) {
      if (!a.status) continue;
      const state = `${a.status}|${a.waitingFor ?? ''}|${a.attempt}`;
      const at = a.status === 'InProgress' ? a.startedAt : a.endedAt;
      const took = a.status !== 'InProgress' ? duration(a.startedAt, a.endedAt) : '';
      const text = [out.status(a.status), took, actionNote(out, view, stage, a)].filter(Boolean).join('  ');
      emit(`action:${stage.name}/${a.name}`, state, at, `${stage.name}/${a.name}`, text);
    }
    if (ended) stageLine();
  }
  if (view.rollback) emit('rollback', view.rollback.status, null, 'rollback', out.status(view.rollback.status));
  return lines;
}
