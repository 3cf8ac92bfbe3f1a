/** Executions: `trigger` (and `--wait` for its result), `status` and `logs`. */
import { type Command, InvalidArgumentError } from 'commander';
import type { ExecutionView, TriggerResult } from '../api-types.js';
import { seg } from '../client.js';
import { UsageError } from '../errors.js';
import { ExitCode, FINAL_STATUS_CODES } from '../exit-codes.js';
import { duration } from '../output.js';
import { printExecution, printOutcome } from '../render.js';
import type { Context, Runner } from '../runner.js';
import { watchExecution } from '../watch.js';

interface WaitOptions {
  wait?: boolean;
  timeout?: string;
}

interface TriggerOptions extends WaitOptions {
  var?: Record<string, string>;
  revision?: Record<string, string>;
  idempotencyKey?: string;
}

export function executionCommands(program: Command, runner: Runner): void {
  triggerCommand(program, runner);
  statusCommand(program, runner);
  logsCommand(program, runner);
}

/** `paso trigger PIPELINE [--wait]`. */
function triggerCommand(program: Command, runner: Runner): void {
  program
    .command('trigger <pipeline>')
    .description('start an execution; with --wait, follow it and exit with its result')
    .option('--var <name=value>', 'set a variable the pipeline declares (repeatable)', keyValue)
    .option('--revision <source=revision>', 'record a source revision (repeatable)', keyValue)
    .option('--idempotency-key <key>', 'the same key again gives the same execution, never a second one')
    .option('--wait', 'show the stages as they progress and exit with the result (see the exit codes)')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 6); the execution goes on')
    .action(
      runner.action<TriggerOptions>(async (ctx, [pipeline], o) => {
        const timeoutSeconds = parseTimeout(o.timeout);
        const client = await ctx.client();
        const res = await client.send('POST', `/pipelines/${seg(pipeline!)}/executions`, {
          json: {
            ...(o.var ? { variables: o.var } : {}),
            ...(o.revision ? { sourceRevisions: o.revision } : {}),
            ...(o.idempotencyKey ? { idempotencyKey: o.idempotencyKey } : {}),
          },
        });
        const result = (await res.json()) as TriggerResult;
        const what = res.status === 201 ? 'triggered' : 'already triggered with this idempotency key';
        if (!o.wait) {
          if (ctx.out.json) return ctx.out.printJson({ ...result, created: res.status === 201 });
          return ctx.out.line(`${result.executionId} ${what} (${ctx.out.status(result.status)})`);
        }
        ctx.out.note(`${ctx.out.paint('bold', result.executionId)} ${what}; following it (Ctrl-C stops only this)`);
        return follow(ctx, result.executionId, timeoutSeconds);
      }),
    );
}

/** `paso status ID [--wait]`. */
function statusCommand(program: Command, runner: Runner): void {
  program
    .command('status <execution>')
    .description("an execution's stages and actions; with --wait, follow it and exit with its result")
    .option('--wait', 'follow it until it ends and exit with its result (see the exit codes)')
    .option('--timeout <seconds>', 'with --wait: give up after this long (exit 6)')
    .action(
      runner.action<WaitOptions>(async (ctx, [id], o) => {
        const timeoutSeconds = parseTimeout(o.timeout);
        if (o.wait) return follow(ctx, id!, timeoutSeconds);
        const view = await (await ctx.client()).get<ExecutionView>(`/executions/${seg(id!)}`);
        if (ctx.out.json) return ctx.out.printJson(view);
        printExecution(ctx.out, view);
      }),
    );
}

/** `paso logs ID STAGE/ACTION [-f]`: the log as the gateway streams it. */
function logsCommand(program: Command, runner: Runner): void {
  program
    .command('logs <execution> <stage/action>')
    .description("an action's output (<action>.rollback: its rollback's); -f follows it until the action ends")
    .option('-f, --follow', 'keep printing as the command writes, until it ends')
    .action(
      runner.action<{ follow?: boolean }>(async (ctx, [id, step], o) => {
        const [stage, action] = splitStep(step!);
        const client = await ctx.client();
        const res = await client.send('GET', `/executions/${seg(id!)}/logs/${seg(stage)}/${seg(action)}`, {
          query: { follow: o.follow ? 'true' : undefined },
          timeoutMs: o.follow ? null : undefined,
        });
        const reader = res.body?.getReader();
        for (;;) {
          const chunk = await reader?.read();
          if (!chunk || chunk.done) return;
          await ctx.out.writeRaw(chunk.value);
        }
      }),
    );
}

/** Follows an execution to its end; the exit code is its result. */
async function follow(ctx: Context, id: string, timeoutSeconds: number | undefined): Promise<ExitCode> {
  const view = await watchExecution(await ctx.client(), ctx.out, id, { timeoutSeconds });
  if (ctx.out.json) ctx.out.printJson(view);
  else {
    ctx.out.line(
      `${ctx.out.paint('bold', view.executionId)} ${ctx.out.status(view.status)}` +
        (view.endedAt ? ` after ${duration(view.startedAt, view.endedAt)}` : ''),
    );
    printOutcome(ctx.out, view);
  }
  return FINAL_STATUS_CODES[view.status] ?? ExitCode.Error;
}

/** `Stage/action`, as the log's URL names it. */
export function splitStep(step: string): [string, string] {
  const slash = step.indexOf('/');
  if (slash <= 0 || slash === step.length - 1) throw new UsageError(`expected <stage>/<action>, not "${step}"`);
  return [step.slice(0, slash), step.slice(slash + 1)];
}

/** commander's collector for repeatable `NAME=VALUE` options. */
function keyValue(pair: string, into: Record<string, string> = {}): Record<string, string> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected NAME=VALUE, not "${pair}"`);
  return { ...into, [pair.slice(0, eq)]: pair.slice(eq + 1) };
}

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--timeout wants seconds, not "${value}"`);
  return seconds;
}
