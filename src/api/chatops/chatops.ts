/**
 * ChatOps (Clarive): a Slack channel bound to an execution. Everything said in a bound channel is recorded
 * on the execution as a `chat` annotation; what is said to Paso (`@paso approve …`) is carried out through
 * the same `Paso` methods, with the same rights checks, as the HTTP API, for the Paso user the Slack user is
 * mapped to in the config file. Nobody unmapped can do anything; everybody gets an answer in the channel.
 *
 * Runs after the event was acknowledged (Slack wants an answer within 3 seconds). Slack may deliver an
 * event again (its retries) and delivers a message that mentions Paso twice (`message` and `app_mention`):
 * each event id and each message is handled once per gateway, and a chat annotation's id is the message's,
 * so that two gateways record it once.
 */
import type { WebClient } from '@slack/web-api';
import { WebAPIPlatformError } from '@slack/web-api';
import type { AnnotationRepository } from '../../store/store.js';
import type { User } from '../../config.js';
import type { WaitingAction } from '../../shared/chat-text.js';
import { escapeMrkdwn, statusText, waitingActions } from '../../shared/chat-text.js';
import type { ExecutionView } from '../../shared/execution-view.js';
import { authorize } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem, toProblem } from '../problem.js';
import { logger } from '../../log.js';
import type { ChatCommand } from './commands.js';
import { CHANNEL_PREFIX, HELP, parseCommand } from './commands.js';

/** The parts of a Slack Events API `message` or `app_mention` event Paso reads. */
export interface SlackMessageEvent {
  type: string;
  subtype?: string;
  user?: string;
  bot_id?: string;
  text?: string;
  channel?: string;
  ts?: string;
  thread_ts?: string;
}

export interface SlackEventEnvelope {
  type: string;
  event_id?: string;
  event?: SlackMessageEvent;
}

export interface ChatOpsDeps {
  paso: Paso;
  slack: WebClient;
  annotations: AnnotationRepository;
  users: readonly User[];
  publicUrl: string;
}

/** Message subtypes that are people saying something (edits, joins, bot posts and the like are not). */
const SAID = new Set(['file_share', 'thread_broadcast', 'me_message']);

/** How long "this channel is bound to nothing" is believed before Temporal is asked again. */
const UNBOUND_TTL_MS = 30_000;

interface Context {
  channel: string;
  slackUser: string;
  actor: User | null;
  executionId: string | null;
}

export class ChatOps {
  private readonly seen = new RecentKeys(10_000);
  private readonly bindings = new Map<string, { executionId: string | null; at: number }>();
  private botUser: Promise<string> | null = null;
  /** Per channel, the handling of its latest message: the next one starts after it. */
  private readonly lanes = new Map<string, Promise<void>>();

  constructor(private readonly deps: ChatOpsDeps) {}

  /** Handles an event; a channel's messages are handled one after another, in the order they came. */
  async handle(envelope: SlackEventEnvelope): Promise<void> {
    const e = envelope.event;
    if (envelope.type !== 'event_callback' || !e) return;
    if (envelope.event_id && !this.seen.add(`event:${envelope.event_id}`)) return;
    if (e.type !== 'message' && e.type !== 'app_mention') return;
    if (!e.user || !e.channel || !e.ts || e.bot_id || (e.subtype && !SAID.has(e.subtype))) return;
    if (!this.seen.add(`message:${e.channel}:${e.ts}`)) return;
    const channel = e.channel;
    const message = { ...e, user: e.user, channel, ts: e.ts };
    const handled = (this.lanes.get(channel) ?? Promise.resolve()).then(() => this.handleMessage(message));
    const lane = handled.catch(() => undefined);
    this.lanes.set(channel, lane);
    void lane.then(() => {
      if (this.lanes.get(channel) === lane) this.lanes.delete(channel);
    });
    return handled;
  }

  private async handleMessage(e: SlackMessageEvent & { user: string; channel: string; ts: string }): Promise<void> {
    const bot = await this.botUserId();
    if (e.user === bot) return;
    const actor = this.deps.users.find((u) => u.slack === e.user) ?? null;
    const executionId = await this.executionOf(e.channel);
    const text = e.text ?? '';
    if (executionId) {
      await this.deps.annotations.add(executionId, {
        id: `chat-${e.channel}-${e.ts}`,
        kind: 'chat',
        by: actor?.name ?? `slack:${e.user}`,
        text: text.replaceAll(`<@${bot}>`, '@paso'),
        slack: { user: e.user, channel: e.channel, ts: e.ts },
      });
    }
    const command = parseCommand(text, bot);
    if (!command) return;
    let reply: string;
    try {
      reply = await this.carryOut(command, { channel: e.channel, slackUser: e.user, actor, executionId });
    } catch (err) {
      reply = refusal(err);
    }
    await this.deps.slack.chat.postMessage({
      channel: e.channel,
      text: `<@${e.user}> ${reply}`,
      ...(e.thread_ts ? { thread_ts: e.thread_ts } : {}),
      unfurl_links: false,
    });
  }

  private async carryOut(command: ChatCommand, ctx: Context): Promise<string> {
    if (command.verb === 'help') return HELP;
    if (command.verb === 'invalid') return command.message;
    if (!ctx.actor) {
      return (
        `:no_entry: I do not know who you are in Paso, so I did nothing. An admin can map you by adding ` +
        `\`slack: ${ctx.slackUser}\` to your user in Paso's config file.`
      );
    }
    if (command.verb === 'add') return this.add(command, ctx.actor, ctx.slackUser);
    if (!ctx.executionId) {
      return 'this channel is not bound to an execution: say `@paso add #job-<execution>` to open one that is.';
    }
    const id = ctx.executionId;
    const { paso } = this.deps;
    const actor = ctx.actor;
    switch (command.verb) {
      case 'status':
        authorize(actor, 'viewer'); // as GET /executions/:id
        return statusText(await paso.getExecution(id), this.reviewUrl(id));
      case 'stop': {
        const reason = command.reason ? { reason: command.reason } : {};
        const view = await paso.stop(id, { abandon: command.abandon, ...reason }, actor);
        return `${command.abandon ? 'stopping and abandoning' : 'stopping'} ${id} (${view.status}).`;
      }
      case 'run': {
        const run = await paso.runTalkback(id, command.name, actor);
        return `running Talkback \`${run.name}\` (${run.id}); its output follows here when it ends.`;
      }
      default:
        return this.decide(command, id, actor);
    }
  }

  /** A person's decision on the step waiting for it: an approval, a pause, a trap (or a stage retry). */
  private async decide(command: Extract<ChatCommand, { rest: string }>, id: string, actor: User): Promise<string> {
    const { paso } = this.deps;
    const view = await paso.getExecution(id);
    const { verb, rest } = command;
    if (verb === 'approve' || verb === 'reject') {
      const { step, comment } = pick(view, 'approval', rest, verb);
      const after = await paso.approve(id, { stage: step.stage, action: step.name, decision: verb, comment }, actor);
      const more = after.waitingFor === 'approval';
      return `${verb === 'approve' ? 'approved' : 'rejected'} *${step.stage} › ${step.name}*${more ? '; it waits for more approvals' : ''}.`;
    }
    if (verb === 'resume') {
      const { step, comment } = pick(view, 'resume', rest, verb);
      await paso.resume(id, { stage: step.stage, action: step.name, comment }, actor);
      return `resumed *${step.stage} › ${step.name}*.`;
    }
    if (verb === 'retry' && waitingActions(view, 'trap').length === 0) return this.retryStage(view, rest, actor);
    const { step, comment } = pick(view, 'trap', rest, verb);
    await paso.decideTrap(id, { stage: step.stage, action: step.name, decision: verb, comment }, actor);
    return `${{ retry: 'retrying', skip: 'skipped', abort: 'aborted' }[verb]} *${step.stage} › ${step.name}*.`;
  }

  /** `retry` when no step is trapped: the failed or stopped stage, its failed actions (`retry all`: all). */
  private async retryStage(view: ExecutionView, rest: string, actor: User): Promise<string> {
    if (!view.retryableStage) throw new HttpProblem(409, `nothing to retry: ${view.executionId} is ${view.status}`);
    const mode = rest.trim().toLowerCase() === 'all' ? 'ALL_ACTIONS' : 'FAILED_ACTIONS';
    await this.deps.paso.retry(view.executionId, { stage: view.retryableStage, mode }, actor);
    return `retrying stage *${view.retryableStage}* (${mode === 'ALL_ACTIONS' ? 'all actions' : 'failed actions'}).`;
  }

  /** Creates `#job-<id>` (or joins it, when it exists), invites the asker, and binds it to the execution. */
  private async add(command: Extract<ChatCommand, { verb: 'add' }>, actor: User, slackUser: string): Promise<string> {
    const { paso, slack } = this.deps;
    const view = await paso.getExecution(command.executionId);
    if (view.endedAt && !view.retryableStage) {
      throw new HttpProblem(
        409,
        `${view.executionId} has ended (${view.status}); only a running or retryable execution takes a channel`,
      );
    }
    const created = command.channel ? null : await this.create(command.name);
    const channel = created ?? command.channel ?? (await this.find(command.name));
    if (!created) await slack.conversations.join({ channel }); // its creator, the bot, is in a new one
    await slack.conversations.invite({ channel, users: slackUser }).catch((err: unknown) => {
      if (!(err instanceof WebAPIPlatformError)) throw err; // already in it, or Slack will not: not our concern
    });
    await paso.bindChannel(command.executionId, { channel, name: command.name }, actor);
    this.bindings.set(channel, { executionId: command.executionId, at: Date.now() });
    return `<#${channel}> now follows *${command.executionId}*.`;
  }

  /** Creates `#name` (the bot, its creator, is in it); null when the name is taken. */
  private async create(name: string): Promise<string | null> {
    try {
      const created = await this.deps.slack.conversations.create({ name });
      return created.channel!.id!;
    } catch (err) {
      if (err instanceof WebAPIPlatformError && err.data.error === 'name_taken') return null;
      throw err;
    }
  }

  /** The id of the existing public `#name`. */
  private async find(name: string): Promise<string> {
    const { slack } = this.deps;
    for await (const page of slack.paginate('conversations.list', {
      types: 'public_channel',
      exclude_archived: true,
      limit: 200,
    })) {
      const channels = (page as { channels?: { id: string; name: string }[] }).channels ?? [];
      const found = channels.find((c) => c.name === name);
      if (found) return found.id;
    }
    throw new HttpProblem(
      409,
      `#${name} exists but I cannot see it (private or archived?): invite me to it, then link it: \`@paso add #${name}\``,
    );
  }

  /** The execution a channel is bound to. A binding never changes, so a found one is kept for good. */
  private async executionOf(channel: string): Promise<string | null> {
    const known = this.bindings.get(channel);
    if (known && (known.executionId || Date.now() - known.at < UNBOUND_TTL_MS)) return known.executionId;
    const executionId = (await this.deps.paso.executionOfChannel(channel)) ?? (await this.boundByName(channel));
    if (this.bindings.size > 10_000) this.bindings.clear();
    this.bindings.set(channel, { executionId, at: Date.now() });
    return executionId;
  }

  /**
   * Visibility may lag a binding made a moment ago on another gateway: a channel named `job-<id>` is asked of
   * execution `<id>` itself, whose view lists the channels bound to it.
   */
  private async boundByName(channel: string): Promise<string | null> {
    const info = await this.deps.slack.conversations.info({ channel }).catch(() => null);
    const name = info?.channel?.name ?? '';
    if (!name.startsWith(CHANNEL_PREFIX)) return null;
    const executionId = name.slice(CHANNEL_PREFIX.length);
    const view = await this.deps.paso.getExecution(executionId).catch(() => null);
    return view?.channels.some((c) => c.channel === channel) ? executionId : null;
  }

  /** The bot's own Slack user id (`auth.test`), asked once; mentions of it are commands. */
  private botUserId(): Promise<string> {
    this.botUser ??= this.deps.slack.auth.test().then((r) => {
      if (!r.user_id) throw new Error('Slack auth.test gave no user_id');
      return r.user_id;
    });
    this.botUser.catch(() => (this.botUser = null));
    return this.botUser;
  }

  private reviewUrl(executionId: string): string {
    return `${this.deps.publicUrl}/executions/${executionId}`;
  }
}

/**
 * The step a decision is about: the only one waiting, or the one named first (`approve deploy looks good`).
 * Several waiting and none named is a question back, not a guess.
 */
function pick(
  view: ExecutionView,
  kind: 'approval' | 'resume' | 'trap',
  rest: string,
  verb: string,
): { step: WaitingAction; comment?: string } {
  const waiting = waitingActions(view, kind);
  const noun = { approval: 'an approval', resume: 'a resume (no pause is waiting)', trap: 'a trap decision' }[kind];
  if (waiting.length === 0) throw new HttpProblem(409, `nothing in ${view.executionId} waits for ${noun}`);
  const [first = '', ...others] = rest.split(/\s+/).filter(Boolean);
  const named = waiting.find((a) => a.name === first || `${a.stage}/${a.name}` === first);
  const comment = (named ? others.join(' ') : rest).trim();
  const step = named ?? (waiting.length === 1 ? waiting[0] : undefined);
  if (!step) {
    const names = waiting.map((a) => `\`${a.name}\``).join(', ');
    throw new HttpProblem(
      409,
      `several steps wait (${names}): say which, e.g. \`${verb} ${waiting[0]!.name} [comment]\``,
    );
  }
  return { step, ...(comment ? { comment } : {}) };
}

/** What a refused or failed command says in the channel: the same reason the HTTP API would give. */
function refusal(err: unknown): string {
  const problem = toProblem(err);
  if (problem.status === 500) logger.error({ err }, 'chatops: a command failed');
  const icon = problem.status === 403 ? ':no_entry:' : ':warning:';
  const detail = problem.status === 403 ? `not allowed: ${problem.message}` : problem.message;
  return `${icon} ${escapeMrkdwn(detail)}. Nothing was done.`;
}

/** A bounded set of recently seen keys: the oldest are forgotten first. */
class RecentKeys {
  private readonly keys = new Set<string>();

  constructor(private readonly limit: number) {}

  /** False when `key` was seen already. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.limit) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}
