/**
 * `paso waiting`: the approvals, pauses and traps waiting for a person now, with who may decide each.
 *
 * The gateway has no route for this (nor one saying who the token's user is), so it is put together here from
 * the pipelines' running executions and their current definitions; a server route could answer it in one
 * visibility query and filter by the caller's rights.
 */
import type { Command } from 'commander';
import type { ActionView, ExecutionPage, ExecutionView, PipelineDocument, PipelineSummary } from '../api-types.js';
import { type PasoClient, seg } from '../client.js';
import { clock } from '../output.js';
import { decisionHint } from '../render.js';
import type { Runner } from '../runner.js';

/** How many pages of a pipeline's executions are read at most: a page reads a window of ids, not all. */
const MAX_PAGES = 20;
/** Requests in flight at once, so that a big installation is not asked everything together. */
const CONCURRENCY = 6;

export interface WaitingStep {
  executionId: string;
  pipeline: string;
  stage: string;
  action: string;
  waitingFor: NonNullable<ActionView['waitingFor']>;
  since: string | null;
  expiresAt: string | null;
  message: string | null;
  /** Who may decide, by the pipeline's current definition. */
  who: string;
  decide: string;
}

export function waitingCommand(program: Command, runner: Runner): void {
  program
    .command('waiting')
    .description('approvals, pauses and traps waiting for a decision now, and who may decide them')
    .option('--pipeline <name>', 'only this pipeline')
    .action(
      runner.action<{ pipeline?: string }>(async (ctx, _args, o) => {
        const client = await ctx.client();
        const names = o.pipeline
          ? [o.pipeline]
          : (await client.get<PipelineSummary[]>('/pipelines')).map((p) => p.name);
        const steps = (await mapLimit(names, CONCURRENCY, (name) => waitingIn(client, name))).flat();
        if (ctx.out.json) return ctx.out.printJson(steps);
        if (steps.length === 0) return ctx.out.line('nothing waits for a decision');
        ctx.out.table(
          ['EXECUTION', 'STEP', 'WAITS FOR', 'SINCE', 'EXPIRES', 'WHO MAY DECIDE', 'DECIDE WITH'],
          steps.map((s) => [
            s.executionId,
            `${s.stage}/${s.action}`,
            ctx.out.paint('yellow', s.waitingFor),
            s.since ? clock(s.since) : '',
            s.expiresAt ?? '',
            s.who,
            ctx.out.paint('dim', s.decide),
          ]),
        );
      }),
    );
}

async function waitingIn(client: PasoClient, pipeline: string): Promise<WaitingStep[]> {
  const ids = [
    ...(await runningIds(client, pipeline, 'InProgress')),
    // A stopping execution may still have a trap to skip or abort.
    ...(await runningIds(client, pipeline, 'Stopping')),
  ];
  if (ids.length === 0) return [];
  const [doc, views] = await Promise.all([
    client.get<PipelineDocument>(`/pipelines/${seg(pipeline)}`),
    mapLimit(ids, CONCURRENCY, (id) => client.get<ExecutionView>(`/executions/${seg(id)}`)),
  ]);
  return views.flatMap((view) =>
    view.stages.flatMap((stage) =>
      stage.actions
        .filter((a) => a.waitingFor !== null)
        .map((a) => ({
          executionId: view.executionId,
          pipeline,
          stage: stage.name,
          action: a.name,
          waitingFor: a.waitingFor!,
          since: a.startedAt,
          expiresAt: a.request?.expiresAt ?? null,
          message: a.request?.message ?? null,
          who: whoMayDecide(doc, view, stage.name, a),
          decide: decisionHint(view, stage.name, a),
        })),
    ),
  );
}

async function runningIds(client: PasoClient, pipeline: string, status: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const p = await client.get<ExecutionPage>(`/pipelines/${seg(pipeline)}/executions`, {
      status,
      limit: '1000',
      cursor,
    });
    ids.push(...p.executions.map((e) => e.executionId));
    if (!p.nextCursor) break;
    cursor = p.nextCursor;
  }
  return ids;
}

/** Who may decide a step, read from the definition (the execution's own version may be older: said so). */
function whoMayDecide(doc: PipelineDocument, view: ExecutionView, stage: string, a: ActionView): string {
  if (a.waitingFor === 'trap') return 'operators';
  const def = doc.definition.stages.find((s) => s.name === stage)?.actions.find((x) => x.name === a.name);
  const older = doc.version !== view.pipelineVersion ? ` (as of v${doc.version})` : '';
  const principals = (p: { users: string[]; groups: string[] }) =>
    [...p.users, ...p.groups.map((g) => `@${g}`)].join(', ') || 'nobody';
  if (def?.type === 'approval') {
    const approved = a.approvals.filter((x) => x.decision === 'approve').length;
    const self = def.allowSelfApproval ? '' : `, not ${view.trigger.by}`;
    return `${principals(def.approvers)}${self} (${approved}/${def.required})${older}`;
  }
  if (def?.type === 'pause') return `operators${def.allowed ? `, ${principals(def.allowed)}` : ''}${older}`;
  return a.waitingFor === 'resume' ? 'operators' : '?';
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
