/**
 * Deciding and acting on an execution: `approve`, `reject`, `resume`, `trap`, `stop`, `retry`, `annotate`.
 * The gateway checks who may; the CLI only finds which step is meant when the person did not say.
 */
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import { Argument, type Command, Option } from 'commander';
import type { DecisionResult, ExecutionView } from '../api-types.js';
import { type PasoClient, seg } from '../client.js';
import { CliError, UsageError } from '../errors.js';
import type { Context, Runner } from '../runner.js';
import { splitStep } from './executions.js';

type WaitingKind = 'approval' | 'resume' | 'trap';

interface StepOptions {
  action?: string;
  comment?: string;
}

export function decisionCommands(program: Command, runner: Runner): void {
  approvalCommands(program, runner);
  resumeCommand(program, runner);
  trapCommand(program, runner);
  stopCommand(program, runner);
  retryCommand(program, runner);
  annotateCommand(program, runner);
}

/** `paso approve|reject ID`. */
function approvalCommands(program: Command, runner: Runner): void {
  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(`${decision} <execution>`)
      .description(`${decision} a waiting approval`)
      .option('--action <action>', 'which approval ([stage/]action), when several wait')
      .option('--comment <text>', 'recorded with the decision')
      .action(
        runner.action<StepOptions>(async (ctx, [id], o) => {
          const client = await ctx.client();
          const step = await waitingStep(client, id!, 'approval', o.action);
          const result = await client.post<DecisionResult>(`/executions/${seg(id!)}/approvals`, {
            ...step,
            decision,
            ...(o.comment !== undefined ? { comment: o.comment } : {}),
          });
          report(ctx, result, `${decision === 'approve' ? 'approved' : 'rejected'} ${step.stage}/${step.action}`);
        }),
      );
  }
}

/** `paso resume ID`. */
function resumeCommand(program: Command, runner: Runner): void {
  program
    .command('resume <execution>')
    .description('resume a waiting pause')
    .option('--action <action>', 'which pause ([stage/]action), when several wait')
    .option('--comment <text>', 'recorded with the decision')
    .action(
      runner.action<StepOptions>(async (ctx, [id], o) => {
        const client = await ctx.client();
        const step = await waitingStep(client, id!, 'resume', o.action);
        const body = { ...step, ...(o.comment !== undefined ? { comment: o.comment } : {}) };
        report(ctx, await client.post(`/executions/${seg(id!)}/resume`, body), `resumed ${step.stage}/${step.action}`);
      }),
    );
}

/** `paso trap ID retry|skip|abort`. */
function trapCommand(program: Command, runner: Runner): void {
  program
    .command('trap')
    .description('decide a trapped failure: run it again, skip it, or fail (and roll back)')
    .argument('<execution>')
    .addArgument(new Argument('<decision>').choices(['retry', 'skip', 'abort']))
    .option('--action <action>', 'which trapped action ([stage/]action), when several wait')
    .option('--comment <text>', 'recorded with the decision')
    .action(
      runner.action<StepOptions>(async (ctx, [id, decision], o) => {
        const client = await ctx.client();
        const step = await waitingStep(client, id!, 'trap', o.action);
        const body = { ...step, decision, ...(o.comment !== undefined ? { comment: o.comment } : {}) };
        report(
          ctx,
          await client.post(`/executions/${seg(id!)}/trap`, body),
          `trap decided: ${decision} ${step.stage}/${step.action}`,
        );
      }),
    );
}

/** `paso stop ID [--abandon | --abandon-after SECONDS]`. */
function stopCommand(program: Command, runner: Runner): void {
  program
    .command('stop <execution>')
    .description('stop: running actions finish, nothing more starts; --abandon kills them')
    .option('--abandon', 'cancel the running actions (SIGTERM, then SIGKILL)')
    .option('--abandon-after <seconds>', 'stop and wait, then kill what still runs after this many seconds')
    .option('--reason <text>', 'shown on the execution')
    .action(
      runner.action<{ abandon?: boolean; abandonAfter?: string; reason?: string }>(async (ctx, [id], o) => {
        const body = {
          abandon: o.abandon === true,
          ...(o.abandonAfter !== undefined ? { abandonAfterSeconds: Number(o.abandonAfter) } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
        };
        const result = await (await ctx.client()).post<DecisionResult>(`/executions/${seg(id!)}/stop`, body);
        report(ctx, result, o.abandon ? 'stopping (abandon)' : 'stopping (running actions finish)');
      }),
    );
}

/** `paso retry ID [--all]`. */
function retryCommand(program: Command, runner: Runner): void {
  program
    .command('retry <execution>')
    .description('retry the stage that failed or was stopped: its failed actions, or --all of them')
    .option('--all', 'run the whole stage again, not only its failed actions')
    .option('--stage <stage>', 'the stage to retry (default: the one the execution can retry)')
    .action(
      runner.action<{ all?: boolean; stage?: string }>(async (ctx, [id], o) => {
        const client = await ctx.client();
        const stage = o.stage ?? (await retryableStage(client, id!));
        const result = await client.post<DecisionResult>(`/executions/${seg(id!)}/retry`, {
          stage,
          mode: o.all ? 'ALL_ACTIONS' : 'FAILED_ACTIONS',
        });
        report(ctx, result, `retrying ${stage} (${o.all ? 'all actions' : 'failed actions'})`);
      }),
    );
}

/** `paso annotate ID --comment C | --file F`. */
function annotateCommand(program: Command, runner: Runner): void {
  program
    .command('annotate <execution>')
    .description('add a comment, or a file (with --comment as its text), to an execution')
    .option('--comment <text>', 'the comment')
    .option('--file <file>', 'a file to attach (10 MB at most)')
    .addOption(new Option('--kind <kind>', 'the kind of a text annotation').choices(['comment', 'log', 'other']))
    .action(
      runner.action<{ comment?: string; file?: string; kind?: string }>(async (ctx, [id], o) => {
        if (o.comment === undefined && o.file === undefined)
          throw new UsageError('say --comment <text> or --file <file>');
        const client = await ctx.client();
        const url = `/executions/${seg(id!)}/annotations`;
        const result = o.file
          ? await client.json<{ id: string }>('POST', url, { body: await form(o.file, o.comment) })
          : await client.post<{ id: string }>(url, { kind: o.kind ?? 'comment', text: o.comment });
        if (ctx.out.json) return ctx.out.printJson(result);
        ctx.out.line(`annotation ${result.id} added to ${id}`);
      }),
    );
}

function report(ctx: Context, result: unknown, what: string): void {
  if (ctx.out.json) return ctx.out.printJson(result);
  const { executionId, status } = result as DecisionResult;
  ctx.out.line(`${executionId}: ${what}; now ${ctx.out.status(status)}`);
}

/**
 * The step a decision is about: the one named (`stage/action`, or an action's name), else the only one
 * waiting for that kind of decision.
 */
async function waitingStep(
  client: PasoClient,
  id: string,
  kind: WaitingKind,
  named: string | undefined,
): Promise<{ stage: string; action: string }> {
  if (named?.includes('/')) {
    const [stage, action] = splitStep(named);
    return { stage, action };
  }
  const view = await client.get<ExecutionView>(`/executions/${seg(id)}`);
  const steps = view.stages.flatMap((s) => s.actions.map((a) => ({ stage: s.name, action: a.name, a })));
  const waiting = steps.filter((s) => s.a.waitingFor === kind);
  if (named !== undefined) {
    // A waiting one first: an action name may repeat across stages.
    const found = waiting.find((s) => s.action === named) ?? steps.find((s) => s.action === named);
    if (!found) throw new CliError(`${id} has no action "${named}"`);
    return { stage: found.stage, action: found.action };
  }
  if (waiting.length === 1) return { stage: waiting[0]!.stage, action: waiting[0]!.action };
  if (waiting.length === 0) throw new CliError(`nothing in ${id} waits for ${kind} (it is ${view.status})`);
  throw new UsageError(
    `several steps of ${id} wait for ${kind}: say which with --action`,
    waiting.map((s) => `--action ${s.stage}/${s.action}`),
  );
}

async function retryableStage(client: PasoClient, id: string): Promise<string> {
  const view = await client.get<ExecutionView>(`/executions/${seg(id)}`);
  if (!view.retryableStage) {
    throw new CliError(
      `${id} cannot be retried (it is ${view.status}${view.overtakenBy ? `, overtaken by ${view.overtakenBy}` : ''})`,
    );
  }
  return view.retryableStage;
}

/** The multipart form the gateway takes a file in: the field `file`, and `text`. */
async function form(file: string, text: string | undefined): Promise<FormData> {
  let blob: Blob;
  try {
    blob = await openAsBlob(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const data = new FormData();
  data.set('file', blob, path.basename(file));
  if (text !== undefined) data.set('text', text);
  return data;
}
