/**
 * What people say to Paso in chat, parsed: the words after the bot's mention (`<@U0PASO> approve looks
 * good`). Pure, so every form is unit-tested; `chatops.ts` carries the commands out.
 */
import { parseExecutionId } from '../../shared/execution.js';

export type ChatCommand =
  | { verb: 'help' }
  | { verb: 'status' }
  /** Create or join `#job-<executionId>` and bind it. `channel` is Slack's id when the message linked it. */
  | { verb: 'add'; executionId: string; name: string; channel: string | null }
  /** `rest` may start with the action's name when several wait; the rest is a comment. */
  | { verb: 'approve' | 'reject' | 'resume' | 'retry' | 'skip' | 'abort'; rest: string }
  | { verb: 'stop'; abandon: boolean; reason: string }
  | { verb: 'run'; name: string }
  /** Not a command Paso knows, or one missing what it needs: `message` says what is wrong. */
  | { verb: 'invalid'; message: string };

export const CHANNEL_PREFIX = 'job-';
/** Slack's longest channel name. */
const MAX_CHANNEL_NAME = 80;

export const HELP =
  'Commands (mention me first): `add #job-<execution>` binds a channel to an execution; in a bound channel: ' +
  '`status`, `approve [comment]`, `reject [comment]`, `resume [comment]`, `retry [all]`, `skip`, `abort` ' +
  '(a trapped failure), `stop [abandon] [reason]`, `run <talkback>`. When several steps wait, name one: ' +
  '`approve <action> [comment]`.';

/** The command a message gives Paso, or null when it does not mention Paso. */
export function parseCommand(text: string, botUserId: string): ChatCommand | null {
  const mention = `<@${botUserId}>`;
  const at = text.indexOf(mention);
  if (at < 0) return null;
  const words = text
    .slice(at + mention.length)
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const verb = (words.shift() ?? 'help').toLowerCase();
  const rest = words.join(' ');
  switch (verb) {
    case 'help':
    case 'status':
      return { verb };
    case 'add':
      return parseAdd(words[0]);
    case 'approve':
    case 'reject':
    case 'resume':
    case 'retry':
    case 'skip':
    case 'abort':
      return { verb, rest };
    case 'stop': {
      const abandon = words[0]?.toLowerCase() === 'abandon';
      return { verb, abandon, reason: (abandon ? words.slice(1) : words).join(' ') };
    }
    case 'run':
      return words.length === 1
        ? { verb, name: words[0]! }
        : { verb: 'invalid', message: 'say `run <talkback>` with the name of one configured Talkback command' };
    default:
      return { verb: 'invalid', message: `I do not know \`${verb}\`. ${HELP}` };
  }
}

/** `#job-web-42`, `job-web-42`, or Slack's link to an existing channel, `<#C0123|job-web-42>`. */
function parseAdd(target: string | undefined): ChatCommand {
  const usage = 'say `add #job-<execution>`, e.g. `add #job-web-42`';
  if (!target) return { verb: 'invalid', message: usage };
  const link = /^<#([A-Z0-9]+)\|([^>]*)>$/i.exec(target);
  const name = (link ? link[2]! : target.replace(/^#/, '')).toLowerCase();
  if (!name.startsWith(CHANNEL_PREFIX))
    return { verb: 'invalid', message: `${usage}: the channel's name starts with "job-"` };
  const executionId = name.slice(CHANNEL_PREFIX.length);
  if (!parseExecutionId(executionId)) {
    return { verb: 'invalid', message: `"${executionId}" is not an execution id (\`<pipeline>-<number>\`)` };
  }
  if (name.length > MAX_CHANNEL_NAME) {
    return { verb: 'invalid', message: `#${name} is longer than Slack's ${MAX_CHANNEL_NAME} characters` };
  }
  return { verb: 'add', executionId, name, channel: link ? link[1]! : null };
}
