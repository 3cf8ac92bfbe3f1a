/**
 * Slack Block Kit for a manual step that waits for people: the post's text, then its buttons (Approve /
 * Reject, Resume, Retry / Skip / Abort). A click comes back to `/chatops/slack/interactions` with the
 * button's `action_id` (the decision) and `value` (which step of which execution).
 */
export type ChatDecisionKind = 'approval' | 'resume' | 'trap';

/** What a post's buttons decide: a step of an execution. */
export interface ChatDecision {
  executionId: string;
  stage: string;
  action: string;
  kind: ChatDecisionKind;
}

export const BUTTON_PREFIX = 'paso:';
export const DECISIONS = ['approve', 'reject', 'resume', 'retry', 'skip', 'abort'] as const;
export type ButtonDecision = (typeof DECISIONS)[number];

const BUTTONS: Record<ChatDecisionKind, { decision: ButtonDecision; text: string; style?: 'primary' | 'danger' }[]> = {
  approval: [
    { decision: 'approve', text: 'Approve', style: 'primary' },
    { decision: 'reject', text: 'Reject', style: 'danger' },
  ],
  resume: [{ decision: 'resume', text: 'Resume', style: 'primary' }],
  trap: [
    { decision: 'retry', text: 'Retry', style: 'primary' },
    { decision: 'skip', text: 'Skip' },
    { decision: 'abort', text: 'Abort', style: 'danger' },
  ],
};

/** The button's value: which step it decides (Slack allows 2,000 characters; names are at most 100 each). */
export function buttonValue(d: ChatDecision): string {
  return JSON.stringify({ e: d.executionId, s: d.stage, a: d.action });
}

/** The blocks of a waiting step's post: its text, what has been decided so far, and (while open) its buttons. */
export function decisionBlocks(text: string, decision: ChatDecision, notes: string[] = [], open = true): unknown[] {
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }];
  if (notes.length) {
    blocks.push({ type: 'context', elements: notes.slice(-10).map((n) => ({ type: 'mrkdwn', text: n })) });
  }
  if (open) {
    blocks.push({
      type: 'actions',
      block_id: `paso:${decision.kind}`,
      elements: BUTTONS[decision.kind].map((b) => ({
        type: 'button',
        action_id: `${BUTTON_PREFIX}${b.decision}`,
        text: { type: 'plain_text', text: b.text },
        value: buttonValue(decision),
        ...(b.style ? { style: b.style } : {}),
      })),
    });
  }
  return blocks;
}
