/**
 * Clicks on the buttons of a waiting step's post (Slack's `block_actions` interactions). The clicker is the
 * Paso user mapped to their Slack id; the decision goes through `Paso`, with the same rights checks as the
 * API and chat commands. The post is then updated to say who decided what (its buttons go once the step no
 * longer waits); a refusal is told to the clicker alone (an ephemeral message), with the reason.
 */
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import type { User } from '../../config.js';
import { BUTTON_PREFIX, DECISIONS, decisionBlocks, type ChatDecision } from '../../shared/chat-buttons.js';
import { logger } from '../../log.js';
import type { Paso } from '../paso.js';
import { toProblem } from '../problem.js';

/** The parts of Slack's `block_actions` payload Paso reads. */
export const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string() }),
  channel: z.looseObject({ id: z.string() }),
  message: z.looseObject({ ts: z.string(), text: z.string().optional(), blocks: z.array(z.unknown()).optional() }),
  actions: z
    .array(z.looseObject({ action_id: z.string(), value: z.string().max(2000).optional() }))
    .min(1)
    .max(1),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

const valueSchema = z.object({ e: z.string().min(1), s: z.string().min(1), a: z.string().min(1) });

const DONE: Record<(typeof DECISIONS)[number], string> = {
  approve: ':white_check_mark: approved',
  reject: ':x: rejected',
  resume: ':arrow_forward: resumed',
  retry: ':repeat: retried',
  skip: ':fast_forward: skipped',
  abort: ':stop_sign: aborted',
};

export class ChatButtons {
  constructor(private readonly deps: { paso: Paso; slack: WebClient; users: readonly User[] }) {}

  async handle(payload: BlockActions): Promise<void> {
    const click = payload.actions[0]!;
    const decision = DECISIONS.find((d) => click.action_id === `${BUTTON_PREFIX}${d}`);
    const step = valueSchema.safeParse(safeJson(click.value));
    if (!decision || !step.success) return; // not one of Paso's buttons
    const { e: executionId, s: stage, a: action } = step.data;
    const channel = payload.channel.id;
    const actor = this.deps.users.find((u) => u.slack === payload.user.id);
    if (!actor) {
      await this.tell(
        channel,
        payload.user.id,
        'Your Slack account is not mapped to a Paso user, so you cannot decide.',
      );
      return;
    }
    try {
      const ref = { stage, action };
      if (decision === 'approve' || decision === 'reject')
        await this.deps.paso.approve(executionId, { ...ref, decision }, actor);
      else if (decision === 'resume') await this.deps.paso.resume(executionId, ref, actor);
      else await this.deps.paso.decideTrap(executionId, { ...ref, decision }, actor);
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) logger.error({ err, executionId, stage, action }, 'chatops: a button decision failed');
      await this.tell(
        channel,
        payload.user.id,
        `Paso refused your ${decision} of ${executionId} ${stage}/${action}: ${problem.message}`,
      );
      return;
    }
    await this.record(
      payload,
      { executionId, stage, action, kind: kindOf(decision) },
      `${DONE[decision]} by ${actor.name}`,
    );
  }

  /** Updates the post: what was decided and by whom, and its buttons only while the step still waits. */
  private async record(payload: BlockActions, step: ChatDecision, note: string): Promise<void> {
    const view = await this.deps.paso.getExecution(step.executionId).catch(() => null);
    const waiting = view?.stages.find((s) => s.name === step.stage)?.actions.find((a) => a.name === step.action);
    const open = waiting?.waitingFor === (step.kind === 'approval' ? 'approval' : step.kind);
    const text = sectionText(payload.message.blocks) ?? payload.message.text ?? '';
    const notes = [...previousNotes(payload.message.blocks), note];
    await this.deps.slack.chat.update({
      channel: payload.channel.id,
      ts: payload.message.ts,
      text: [text, ...notes].join('\n'),
      blocks: decisionBlocks(text, step, notes, open) as never,
    });
  }

  private async tell(channel: string, user: string, text: string): Promise<void> {
    await this.deps.slack.chat.postEphemeral({ channel, user, text });
  }
}

function kindOf(decision: (typeof DECISIONS)[number]): ChatDecision['kind'] {
  if (decision === 'approve' || decision === 'reject') return 'approval';
  return decision === 'resume' ? 'resume' : 'trap';
}

/** The post's own text, from its first (section) block. */
function sectionText(blocks: unknown[] | undefined): string | undefined {
  const first = blocks?.[0] as { type?: unknown; text?: { text?: unknown } } | undefined;
  return first?.type === 'section' && typeof first.text?.text === 'string' ? first.text.text : undefined;
}

/** The notes of earlier decisions, kept in the post's context block. */
function previousNotes(blocks: unknown[] | undefined): string[] {
  const context = blocks?.find((b): b is { type: 'context'; elements: { text?: unknown }[] } => {
    return typeof b === 'object' && b !== null && (b as { type?: unknown }).type === 'context';
  });
  return (context?.elements ?? []).map((e) => e.text).filter((t): t is string => typeof t === 'string');
}

function safeJson(text: string | undefined): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}
