/** The execution view as people read it: `paso status` prints it whole, `--wait` prints what changes. */
import type { ActionView, ExecutionView, StageView } from '../shared/execution-view.js';
import { clock, duration, type Output } from './output.js';

/** What a person can type to decide a waiting step: shown where the step waits. */
export function decisionHint(view: ExecutionView, stage: string, action: ActionView): string {
  const ref = `${view.executionId} --action ${stage}/${action.name}`;
  if (action.waitingFor === 'approval') return `paso approve|reject ${ref}`;
  if (action.waitingFor === 'resume') return `paso resume ${ref}`;
  if (action.waitingFor === 'trap')
    return `paso trap ${view.executionId} retry|skip|abort --action ${stage}/${action.name}`;
  return '';
}

/** One line of what an action is at: status, what it waits for, how it ended. */
export function actionNote(out: Output, view: ExecutionView, stage: StageView, a: ActionView): string {
  const parts: string[] = [];
  if (a.waitingFor) {
    parts.push(out.paint('yellow', `waiting for ${a.waitingFor}`));
    if (a.request?.message) parts.push(`"${a.request.message}"`);
    if (a.request?.expiresAt) parts.push(`until ${a.request.expiresAt}`);
    if (a.waitingFor === 'trap' && a.error) parts.push(a.error);
    parts.push(out.paint('dim', `(${decisionHint(view, stage.name, a)})`));
  } else if (a.error) parts.push(a.error);
  else if (a.exitCode !== null && a.status !== 'InProgress') parts.push(`exit ${a.exitCode}`);
  if (a.attempt > 1) parts.push(`attempt ${a.attempt}`);
  return parts.join('  ');
}

/** The whole execution: a header, its stages and actions as a table, and how it ended or can go on. */
export function printExecution(out: Output, view: ExecutionView): void {
  out.line(
    `${out.paint('bold', view.executionId)}  ${out.status(view.status)}  ` +
      `pipeline ${view.pipeline} v${view.pipelineVersion} (${view.executionMode})`,
  );
  out.line(
    `triggered by ${view.trigger.by} (${view.trigger.type}) at ${view.startedAt}` +
      (view.endedAt ? `, ended ${view.endedAt} after ${duration(view.startedAt, view.endedAt)}` : ''),
  );
  const vars = Object.entries(view.variables);
  if (vars.length > 0) out.line(`variables: ${vars.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (view.waiting) {
    const { opensAt, lock, heldBy } = view.waiting;
    const opens = opensAt ? ` (opens at ${opensAt})` : '';
    const held = lock ? ` ${lock}${heldBy?.length ? ` (held by ${heldBy.join(', ')})` : ''}` : '';
    out.line(out.paint('yellow', `waiting for ${view.waiting.for}${held} before stage ${view.waiting.stage}${opens}`));
  }
  out.line();
  const rows: string[][] = [];
  for (const s of view.stages) {
    rows.push([
      s.name,
      '',
      out.status(s.status),
      s.startedAt ? clock(s.startedAt) : '',
      duration(s.startedAt, s.endedAt),
    ]);
    for (const a of s.actions) {
      rows.push([
        '',
        a.name,
        out.status(a.status),
        a.startedAt ? clock(a.startedAt) : '',
        duration(a.startedAt, a.endedAt),
        actionNote(out, view, s, a),
      ]);
    }
  }
  out.table(['STAGE', 'ACTION', 'STATUS', 'STARTED', 'TOOK', 'NOTE'], rows);
  printOutcome(out, view);
}

/** Why it ended, and what can still be done about it. */
export function printOutcome(out: Output, view: ExecutionView): void {
  if (view.error) out.line(`${out.paint('red', 'error:')} ${view.error}`);
  if (view.stop) {
    out.line(
      `stopped by ${view.stop.by} (${view.stop.abandon ? 'abandon' : 'wait'}` +
        (view.stop.abandonAt ? `, abandon at ${view.stop.abandonAt}` : '') +
        ')' +
        (view.stop.reason ? `: ${view.stop.reason}` : ''),
    );
  }
  if (view.rollback) out.line(`rollback: ${out.status(view.rollback.status)}`);
  if (view.overtakenBy) out.line(`overtaken by ${view.overtakenBy}`);
  if (view.retryableStage) {
    out.line(
      `retryable: stage ${view.retryableStage} until ${view.retryableUntil ?? '?'} ` +
        out.paint('dim', `(paso retry ${view.executionId} [--all])`),
    );
  }
}
