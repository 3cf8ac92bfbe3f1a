/**
 * What Paso says in chat, in Slack's mrkdwn. Pure functions of an execution's view, shared by the execution
 * workflow (its posts to bound channels) and the gateway (answers to commands), so both speak alike.
 */
import type { ActionView, ExecutionView, TalkbackRun } from './execution-view.js';

/** Slack's three control characters; everything people or commands wrote goes through this. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ICON: Record<ExecutionView['status'], string> = {
  InProgress: ':arrows_counterclockwise:',
  Stopping: ':double_vertical_bar:',
  Stopped: ':black_square_for_stop:',
  Succeeded: ':white_check_mark:',
  Failed: ':x:',
  Superseded: ':fast_forward:',
  Cancelled: ':no_entry_sign:',
};

export type WaitingAction = ActionView & { stage: string };

/** The actions waiting for a person now (approval, resume, trap decision). */
export function waitingActions(view: ExecutionView, kind?: ActionView['waitingFor']): WaitingAction[] {
  return view.stages.flatMap((s) =>
    s.actions
      .filter((a) => a.status === 'InProgress' && a.waitingFor !== null && (!kind || a.waitingFor === kind))
      .map((a) => ({ ...a, stage: s.name })),
  );
}

const ASK: Record<NonNullable<ActionView['waitingFor']>, string> = {
  approval: 'waits for approval: `@paso approve [comment]` or `@paso reject [comment]`',
  resume: 'is paused: `@paso resume`',
  trap: 'failed and is trapped: `@paso retry`, `@paso skip` or `@paso abort`',
};

function describeWaiting(a: WaitingAction): string {
  let line = `*${a.stage} › ${a.name}* ${ASK[a.waitingFor!]}`;
  if (a.waitingFor === 'trap' && a.error) line += `\n> ${escapeMrkdwn(a.error)}`;
  if (a.request?.message) line += `\n> ${escapeMrkdwn(a.request.message)}`;
  if (a.request?.url) line += `\n> ${escapeMrkdwn(a.request.url)}`;
  const expiresAt = a.request?.expiresAt;
  if (expiresAt) line += `\n(until ${expiresAt})`;
  return line;
}

/** `@paso status`, and the first post in a newly bound channel. */
export function statusText(view: ExecutionView, reviewUrl: string | null): string {
  const lines = [
    `${ICON[view.status]} *${view.executionId}* (pipeline ${view.pipeline} v${view.pipelineVersion}) is *${view.status}*`,
  ];
  const stage = [...view.stages].reverse().find((s) => s.status !== null);
  if (view.waiting) lines.push(`waiting to enter ${view.waiting.stage} (${view.waiting.for})`);
  else if (stage) lines.push(`stage ${stage.name}: ${stage.status}`);
  for (const a of waitingActions(view)) lines.push(describeWaiting(a));
  if (view.error) lines.push(`> ${escapeMrkdwn(view.error)}`);
  if (view.retryableStage) {
    lines.push(`stage ${view.retryableStage} can be retried until ${view.retryableUntil}: \`@paso retry\``);
  }
  if (reviewUrl) lines.push(reviewUrl);
  return lines.join('\n');
}

/** Posted when an approval, pause or trap starts waiting on `stage/action`. */
export function waitingText(view: ExecutionView, stage: string, action: string, reviewUrl: string | null): string {
  const a = waitingActions(view).find((w) => w.stage === stage && w.name === action);
  const body = a ? describeWaiting(a) : `*${stage} › ${action}* waits for a person`;
  return `:raised_hand: *${view.executionId}*: ${body}${reviewUrl ? `\n${reviewUrl}` : ''}`;
}

/** Posted when a run of the stages ends (also when a retry may follow). */
export function endText(view: ExecutionView, reviewUrl: string | null): string {
  let text = `${ICON[view.status]} *${view.executionId}* ${view.status}`;
  if (view.error) text += `\n> ${escapeMrkdwn(view.error)}`;
  if (view.retryableStage) {
    text += `\nstage ${view.retryableStage} can be retried until ${view.retryableUntil}: \`@paso retry\``;
  }
  return reviewUrl ? `${text}\n${reviewUrl}` : text;
}

/** The largest piece of a command's output a chat message carries. */
const OUTPUT_IN_CHAT = 2_000;

/** Posted when a Talkback command ends, with the end of its output. */
export function talkbackText(run: TalkbackRun): string {
  const icon = run.status === 'Succeeded' ? ':white_check_mark:' : ':x:';
  let text = `${icon} Talkback \`${run.name}\` (${run.id}, run by ${run.by}) ${run.status}`;
  if (run.exitCode !== null) text += ` with exit code ${run.exitCode}`;
  if (run.error && run.status === 'Failed') text += `\n> ${escapeMrkdwn(run.error)}`;
  const output = (run.outputTail ?? '').trimEnd();
  if (output) text += `\n\`\`\`${escapeMrkdwn(output.slice(-OUTPUT_IN_CHAT))}\`\`\``;
  return text;
}
