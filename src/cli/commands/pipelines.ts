/** Pipelines: `apply`, `pipelines`, `state`, `transition` and `executions`. */
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import YAML from 'yaml';
import type { ExecutionPage, PipelineState, PipelineSummary, PutPipelineResult, StageState } from '../api-types.js';
import { seg } from '../client.js';
import { UsageError } from '../errors.js';
import { duration } from '../output.js';
import type { Runner } from '../runner.js';

export function pipelineCommands(program: Command, runner: Runner): void {
  applyCommand(program, runner);
  pipelinesCommand(program, runner);
  stateCommand(program, runner);
  transitionCommand(program, runner);
  executionsCommand(program, runner);
}

/** `paso apply -f FILE`: PUT the definition as it is written (YAML or JSON). */
function applyCommand(program: Command, runner: Runner): void {
  program
    .command('apply')
    .description('create or update a pipeline from its definition (YAML or JSON)')
    .requiredOption('-f, --file <file>', 'the definition file, or - for stdin')
    .action(
      runner.action<{ file: string }>(async (ctx, _args, { file }) => {
        const { name, text, contentType } = await readDefinition(file);
        const client = await ctx.client();
        const res = await client.send('PUT', `/pipelines/${seg(name)}`, { body: text, contentType });
        const result = (await res.json()) as PutPipelineResult;
        const created = res.status === 201;
        if (ctx.out.json) return ctx.out.printJson({ ...result, created });
        ctx.out.line(`pipeline ${result.name} ${created ? 'created' : 'applied'}: version ${result.version}`);
      }),
    );
}

/** `paso pipelines`. */
function pipelinesCommand(program: Command, runner: Runner): void {
  program
    .command('pipelines')
    .description('list the pipelines')
    .action(
      runner.action(async (ctx) => {
        const pipelines = await (await ctx.client()).get<PipelineSummary[]>('/pipelines');
        if (ctx.out.json) return ctx.out.printJson(pipelines);
        ctx.out.table(
          ['NAME', 'VERSION', 'MODE', 'UPDATED', 'BY'],
          pipelines.map((p) => [p.name, String(p.version), p.executionMode, p.updatedAt, p.updatedBy]),
        );
      }),
    );
}

/** `paso state PIPELINE`: what the coordinator knows of each stage. */
function stateCommand(program: Command, runner: Runner): void {
  program
    .command('state <pipeline>')
    .description("a pipeline's stages: transitions, locks, inbound executions, latest execution")
    .action(
      runner.action(async (ctx, [pipeline]) => {
        const state = await (await ctx.client()).get<PipelineState>(`/pipelines/${seg(pipeline!)}/state`);
        if (ctx.out.json) return ctx.out.printJson(state);
        const { out } = ctx;
        out.line(`${out.paint('bold', state.name)}  version ${state.version}  ${state.executionMode}`);
        out.table(
          ['STAGE', 'TRANSITION', 'LOCKED BY', 'INBOUND', 'LATEST'],
          state.stages.map((s) => [
            s.name,
            transitionText(s, (t) => out.paint('yellow', t)),
            holdersText(s),
            s.inbound.map((i) => `${i.executionId} (${i.waitingFor})`).join(', ') || '-',
            s.latestExecution ? `${s.latestExecution.executionId} ${out.status(s.latestExecution.status)}` : '-',
          ]),
        );
      }),
    );
}

/** Who holds the stage: every holder of one with several slots, and how many of them are taken. */
function holdersText(s: PipelineState['stages'][number]): string {
  // `holders` and `concurrency` are absent from a gateway older than stage concurrency.
  const holders = (s.holders as string[] | undefined) ?? (s.lockedBy ? [s.lockedBy] : []);
  if (holders.length === 0) return '-';
  const slots = s.concurrency > 1 ? ` (${holders.length}/${s.concurrency})` : '';
  return holders.join(', ') + slots;
}

/** `paso transition PIPELINE STAGE --disable --reason R | --enable`. */
function transitionCommand(program: Command, runner: Runner): void {
  program
    .command('transition <pipeline> <stage>')
    .description('disable (with a reason) or enable the transition into a stage')
    .addOption(new Option('--disable', 'hold executions in front of the stage').conflicts('enable'))
    .addOption(new Option('--enable', 'let the waiting executions in'))
    .option('--reason <text>', 'why it is disabled (required with --disable)')
    .action(
      runner.action<{ disable?: boolean; enable?: boolean; reason?: string }>(async (ctx, [pipeline, stage], o) => {
        if (!o.disable && !o.enable) throw new UsageError('say --disable --reason <text> or --enable');
        if (o.disable && !o.reason) throw new UsageError('--disable needs --reason <text>');
        const client = await ctx.client();
        const state = await client.json<StageState>('PUT', `/pipelines/${seg(pipeline!)}/transitions/${seg(stage!)}`, {
          json: { enabled: o.enable === true, ...(o.disable ? { reason: o.reason } : {}) },
        });
        if (ctx.out.json) return ctx.out.printJson(state);
        ctx.out.line(`${pipeline} → ${stage}: ${transitionText(state, (t) => t)}`);
      }),
    );
}

/** `paso executions PIPELINE`: one page of its executions. */
function executionsCommand(program: Command, runner: Runner): void {
  program
    .command('executions <pipeline>')
    .description("a pipeline's executions, newest first")
    .option('--status <status>', 'only those with this status (e.g. Failed)')
    .option('--limit <n>', 'at most this many', '20')
    .option('--cursor <cursor>', 'the next page (printed under a full page)')
    .action(
      runner.action<{ status?: string; limit: string; cursor?: string }>(async (ctx, [pipeline], o) => {
        const client = await ctx.client();
        const page = await client.get<ExecutionPage>(`/pipelines/${seg(pipeline!)}/executions`, {
          status: o.status,
          limit: o.limit,
          cursor: o.cursor,
        });
        if (ctx.out.json) return ctx.out.printJson(page);
        const { out } = ctx;
        out.table(
          ['EXECUTION', 'STATUS', 'STAGE', 'STARTED', 'TOOK'],
          page.executions.map((e) => [
            e.executionId,
            out.status(e.status),
            e.stage ?? '-',
            e.startedAt,
            duration(e.startedAt, e.endedAt),
          ]),
        );
        if (page.nextCursor) out.line(out.paint('dim', `more: --cursor ${page.nextCursor}`));
      }),
    );
}

function transitionText(s: Pick<StageState, 'transition'>, highlight: (t: string) => string): string {
  const t = s.transition;
  if (t.enabled) return 'enabled';
  return highlight(`disabled${t.reason ? `: ${t.reason}` : ''}${t.by ? ` (${t.by})` : ''}`);
}

/** A definition file as the gateway takes it, and the pipeline name it gives (the URL needs it). */
async function readDefinition(file: string): Promise<{ name: string; text: string; contentType: string }> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not valid YAML or JSON: ${(err as Error).message}`);
  }
  const name = (parsed as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name === '') {
    throw new UsageError(`${file} has no "name": the pipeline's name is part of its definition`);
  }
  // JSON is YAML too; sent as what it is, the gateway's errors speak the file's language.
  return { name, text, contentType: isJson(text) ? 'application/json' : 'application/yaml' };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
