/** `paso locks [name]`: the named locks shared across pipelines, who holds them and who waits (`GET /locks`). */
import type { Command } from 'commander';
import type { Lock } from '../api-types.js';
import { clock } from '../output.js';
import type { Runner } from '../runner.js';

export function locksCommand(program: Command, runner: Runner): void {
  program
    .command('locks')
    .argument('[name]', 'one lock, with each holder and waiter')
    .description('named locks shared across pipelines: holders, waiters in order, fencing tokens')
    .action(
      runner.action<Record<string, never>>(async (ctx, [name]) => {
        const client = await ctx.client();
        if (name) {
          const lock = await client.get<Lock>(`/locks/${encodeURIComponent(name)}`);
          if (ctx.out.json) return ctx.out.printJson(lock);
          ctx.out.line(
            `${lock.name} (${lock.order}, last token ${lock.token})${lock.description ? `: ${lock.description}` : ''}`,
          );
          if (lock.holders.length === 0) ctx.out.line(ctx.out.paint('green', 'free'));
          ctx.out.table(
            ['', 'EXECUTION', 'STAGE', 'MODE', 'TOKEN', 'SINCE', 'WITH'],
            [
              ...lock.holders.map((h) => [
                'holds',
                h.executionId,
                h.stage,
                h.mode,
                String(h.token),
                clock(h.since),
                '',
              ]),
              ...lock.waiters.map((w) => [
                ctx.out.paint('yellow', `waits #${w.position}`),
                w.executionId,
                w.stage,
                w.mode,
                '',
                clock(w.since),
                w.with.join(', '),
              ]),
            ],
          );
          return;
        }
        const { locks } = await client.get<{ locks: Lock[] }>('/locks');
        if (ctx.out.json) return ctx.out.printJson(locks);
        if (locks.length === 0) return ctx.out.line('no named lock is declared or in use');
        ctx.out.table(
          ['LOCK', 'ORDER', 'HELD BY', 'WAITING', 'TOKEN'],
          locks.map((l) => [
            l.name,
            l.order,
            l.holders.map((h) => `${h.executionId}/${h.stage}${h.mode === 'shared' ? ' (shared)' : ''}`).join(', ') ||
              ctx.out.paint('green', 'free'),
            String(l.waiters.length),
            String(l.token),
          ]),
        );
      }),
    );
}
