/**
 * `paso waiting`: the approvals, pauses and traps the caller may decide now (`GET /waiting`, checked by the
 * gateway with the rules the executions enforce), and `paso whoami`.
 */
import type { Command } from 'commander';
import type { Me, Waiting } from '../api-types.js';
import { clock } from '../output.js';
import type { Runner } from '../runner.js';

const KIND = { approval: 'approval', resume: 'pause', trap: 'trap' } as const;

export function waitingCommand(program: Command, runner: Runner): void {
  program
    .command('waiting')
    .description('the approvals, pauses and traps you may decide now, oldest first')
    .option('--pipeline <name>', 'only this pipeline')
    .action(
      runner.action<{ pipeline?: string }>(async (ctx, _args, o) => {
        const client = await ctx.client();
        const { decisions } = await client.get<Waiting>('/waiting');
        const steps = decisions
          .filter((d) => !o.pipeline || d.pipeline === o.pipeline)
          .map((d) => ({ ...d, waitingFor: d.kind, decide: hint(d) }));
        if (ctx.out.json) return ctx.out.printJson(steps);
        if (steps.length === 0) return ctx.out.line('nothing waits for your decision');
        ctx.out.table(
          ['EXECUTION', 'STEP', 'WAITS FOR', 'SINCE', 'EXPIRES', 'APPROVALS', 'DECIDE WITH'],
          steps.map((s) => [
            s.executionId,
            `${s.stage}/${s.action}`,
            ctx.out.paint('yellow', KIND[s.kind]),
            s.since ? clock(s.since) : '',
            s.expiresAt ?? '',
            s.approvals ? `${s.approvals.count}/${s.approvals.required}` : '',
            ctx.out.paint('dim', s.decide),
          ]),
        );
      }),
    );

  program
    .command('whoami')
    .description('who your token is: name, roles and groups')
    .action(
      runner.action(async (ctx) => {
        const me = await (await ctx.client()).get<Me>('/me');
        if (ctx.out.json) return ctx.out.printJson(me);
        ctx.out.line(
          `${me.name} (${me.roles.join(', ')})${me.groups.length ? ` groups: ${me.groups.join(', ')}` : ''}`,
        );
      }),
    );
}

function hint(d: Waiting['decisions'][number]): string {
  const ref = `${d.executionId} --action ${d.stage}/${d.action}`;
  if (d.kind === 'approval') return `paso approve|reject ${ref}`;
  if (d.kind === 'resume') return `paso resume ${ref}`;
  return `paso trap ${d.executionId} retry|skip|abort --action ${d.stage}/${d.action}`;
}
