/** The rules of named locks (resource groups), one by one: see src/workflows/named-lock-table.ts. */
import { describe, expect, it } from 'vitest';
import type { LockMode, LockOrder } from '../../src/shared/named-locks.js';
import type { NamedLockData, NamedLockEffect } from '../../src/workflows/named-lock-table.js';
import { NamedLockTable } from '../../src/workflows/named-lock-table.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const NOW = at(100);

type Need = string | [string, LockMode];
const ask = (
  table: NamedLockTable,
  executionId: string,
  needs: Need[],
  { order = 'fifo', created = 0, stage = 'Deploy' }: { order?: LockOrder; created?: number; stage?: string } = {},
) =>
  table.acquire(
    {
      executionId,
      stage,
      createdAt: at(created),
      locks: needs.map((n) => {
        const [name, mode] = typeof n === 'string' ? [n, 'exclusive' as const] : n;
        return { name, mode, order };
      }),
    },
    NOW,
  );
const granted = (effects: NamedLockEffect[]) => effects.filter((e) => e.type === 'grant').map((e) => e.executionId);
const holders = (table: NamedLockTable, name: string) => table.lockView(name)?.holders.map((h) => h.executionId) ?? [];
const waiters = (table: NamedLockTable, name: string) => table.lockView(name)?.waiters.map((w) => w.executionId) ?? [];

describe('named locks', () => {
  it('grant a free lock at once, with fencing tokens that only grow', () => {
    const t = NamedLockTable.create();
    expect(ask(t, 'a-1', ['env:prod'])).toEqual([
      { type: 'grant', executionId: 'a-1', stage: 'Deploy', tokens: { 'env:prod': 1 } },
    ]);
    expect(ask(t, 'b-1', ['env:prod'])).toEqual([
      { type: 'wait', executionId: 'b-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['a-1'] },
    ]);
    expect(t.release('a-1', 'Deploy', NOW)).toEqual([
      { type: 'grant', executionId: 'b-1', stage: 'Deploy', tokens: { 'env:prod': 2 } },
    ]);
    t.release('b-1', 'Deploy', NOW);
    expect(ask(t, 'a-2', ['env:prod'])).toEqual([
      { type: 'grant', executionId: 'a-2', stage: 'Deploy', tokens: { 'env:prod': 3 } },
    ]);
  });

  it('fifo: waiters enter in the order they asked, whichever pipeline they come from', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    ask(t, 'b-5', ['env:prod'], { created: 1 });
    ask(t, 'a-2', ['env:prod'], { created: -5 }); // triggered earlier, asked later
    ask(t, 'c-1', ['env:prod']);
    expect(waiters(t, 'env:prod')).toEqual(['b-5', 'a-2', 'c-1']);
    const order: string[] = [];
    for (let holder = 'a-1'; ;) {
      const next = granted(t.release(holder, null, NOW));
      if (next.length === 0) break;
      order.push(...next);
      holder = next[0]!;
    }
    expect(order).toEqual(['b-5', 'a-2', 'c-1']);
  });

  it('oldest-first: the execution triggered first enters first, not the first to ask', () => {
    const t = NamedLockTable.create();
    const o = { order: 'oldest-first' as const };
    ask(t, 'a-1', ['db'], { ...o, created: 0 });
    ask(t, 'b-1', ['db'], { ...o, created: 3 });
    ask(t, 'c-1', ['db'], { ...o, created: 1 });
    expect(waiters(t, 'db')).toEqual(['c-1', 'b-1']);
    expect(granted(t.release('a-1', null, NOW))).toEqual(['c-1']);
    expect(granted(t.release('c-1', null, NOW))).toEqual(['b-1']);
  });

  it('newest-first: a newer waiter supersedes the older ones; an older arrival is superseded at once', () => {
    const t = NamedLockTable.create();
    const o = { order: 'newest-first' as const };
    ask(t, 'a-1', ['env:prod'], { ...o, created: 0 });
    ask(t, 'a-2', ['env:prod'], { ...o, created: 2 });
    const effects = ask(t, 'b-1', ['env:prod'], { ...o, created: 3 });
    expect(effects).toContainEqual({
      type: 'supersede',
      executionId: 'a-2',
      stage: 'Deploy',
      lock: 'env:prod',
      by: 'b-1',
    });
    expect(waiters(t, 'env:prod')).toEqual(['b-1']);
    expect(ask(t, 'c-1', ['env:prod'], { ...o, created: 1 })).toEqual([
      { type: 'supersede', executionId: 'c-1', stage: 'Deploy', lock: 'env:prod', by: 'b-1' },
    ]);
    expect(holders(t, 'env:prod')).toEqual(['a-1']); // the holder is never superseded
    expect(granted(t.release('a-1', null, NOW))).toEqual(['b-1']);
  });

  it('several locks are taken all at once or not at all: nobody holds one while waiting for another', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    expect(ask(t, 'b-1', ['db', 'env:prod'])).toEqual([
      { type: 'wait', executionId: 'b-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['a-1'] },
    ]);
    expect(holders(t, 'db')).toEqual([]); // b-1 does not sit on db while it waits for env:prod
    // db's order still holds: c-1, asking after b-1, enters db after it (behind a waiter, held by nobody).
    expect(ask(t, 'c-1', ['db'])).toEqual([
      { type: 'wait', executionId: 'c-1', stage: 'Deploy', lock: 'db', heldBy: [] },
    ]);
    expect(t.release('a-1', null, NOW)).toEqual([
      { type: 'grant', executionId: 'b-1', stage: 'Deploy', tokens: { db: 1, 'env:prod': 2 } },
      { type: 'wait', executionId: 'c-1', stage: 'Deploy', lock: 'db', heldBy: ['b-1'] },
    ]);
    expect(granted(t.release('b-1', null, NOW))).toEqual(['c-1']);
  });

  it('a request that conflicts with no waiter before it enters beside a waiting one', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    ask(t, 'b-1', ['db', 'env:prod']);
    expect(granted(ask(t, 'c-1', ['cache']))).toEqual(['c-1']);
    expect(granted(ask(t, 'd-1', [['db', 'shared']]))).toEqual([]); // b-1 wants db exclusively, before it
  });

  it('two stages naming the same locks in opposite orders never deadlock', () => {
    const t = NamedLockTable.create();
    expect(granted(ask(t, 'a-1', ['x', 'y']))).toEqual(['a-1']);
    expect(granted(ask(t, 'b-1', ['y', 'x']))).toEqual([]);
    expect(granted(ask(t, 'a-2', ['x', 'y']))).toEqual([]);
    expect(granted(t.release('a-1', null, NOW))).toEqual(['b-1']);
    expect(granted(t.release('b-1', null, NOW))).toEqual(['a-2']);
    expect(t.watched()).toEqual(['a-2']);
  });

  it('shared holders coexist; an exclusive request waits for them, and shared ones do not pass it', () => {
    const t = NamedLockTable.create();
    expect(granted(ask(t, 'smoke-1', [['env:prod', 'shared']]))).toEqual(['smoke-1']);
    expect(granted(ask(t, 'smoke-2', [['env:prod', 'shared']]))).toEqual(['smoke-2']);
    expect(ask(t, 'deploy-1', ['env:prod'])).toEqual([
      { type: 'wait', executionId: 'deploy-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['smoke-1', 'smoke-2'] },
    ]);
    // A third smoke test arrives while the deployment waits: it queues behind it (no starvation).
    expect(ask(t, 'smoke-3', [['env:prod', 'shared']])).toEqual([
      { type: 'wait', executionId: 'smoke-3', stage: 'Deploy', lock: 'env:prod', heldBy: ['smoke-1', 'smoke-2'] },
    ]);
    expect(granted(t.release('smoke-1', null, NOW))).toEqual([]);
    expect(granted(t.release('smoke-2', null, NOW))).toEqual(['deploy-1']);
    expect(granted(t.release('deploy-1', null, NOW))).toEqual(['smoke-3']);
  });

  it('shared waiters behind the same exclusive holder enter together', () => {
    const t = NamedLockTable.create();
    ask(t, 'deploy-1', ['env:prod']);
    ask(t, 'smoke-1', [['env:prod', 'shared']]);
    ask(t, 'smoke-2', [['env:prod', 'shared']]);
    expect(granted(t.release('deploy-1', null, NOW))).toEqual(['smoke-1', 'smoke-2']);
    expect(t.lockView('env:prod')!.holders.map((h) => [h.executionId, h.mode, h.token])).toEqual([
      ['smoke-1', 'shared', 2],
      ['smoke-2', 'shared', 3],
    ]);
  });

  it('a cycle between locks of different orders is broken, first arrival first', () => {
    const t = NamedLockTable.create();
    // x is fifo, y is oldest-first. b asks first but was triggered later than a.
    t.acquire(
      { executionId: 'h-1', stage: 'S', createdAt: at(0), locks: [{ name: 'x', mode: 'exclusive', order: 'fifo' }] },
      NOW,
    );
    t.acquire(
      {
        executionId: 'h-2',
        stage: 'S',
        createdAt: at(0),
        locks: [{ name: 'y', mode: 'exclusive', order: 'oldest-first' }],
      },
      NOW,
    );
    const both = (id: string, created: number) =>
      t.acquire(
        {
          executionId: id,
          stage: 'S',
          createdAt: at(created),
          locks: [
            { name: 'x', mode: 'exclusive', order: 'fifo' },
            { name: 'y', mode: 'exclusive', order: 'oldest-first' },
          ],
        },
        NOW,
      );
    both('b-1', 5); // first on x (fifo), second on y (oldest-first)
    both('a-1', 1); // second on x, first on y
    expect(granted(t.release('h-1', null, NOW))).toEqual([]);
    expect(granted(t.release('h-2', null, NOW))).toEqual(['b-1']);
    expect(granted(t.release('b-1', null, NOW))).toEqual(['a-1']);
  });

  it('asking again repeats the answer; releasing what one does not hold changes nothing', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    ask(t, 'b-1', ['env:prod']);
    expect(ask(t, 'a-1', ['env:prod'])).toEqual([
      { type: 'grant', executionId: 'a-1', stage: 'Deploy', tokens: { 'env:prod': 1 } },
    ]);
    expect(ask(t, 'b-1', ['env:prod'])).toEqual([
      { type: 'wait', executionId: 'b-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['a-1'] },
    ]);
    expect(t.release('zz-1', null, NOW)).toEqual([]);
    expect(t.release('a-1', 'Build', NOW)).toEqual([]);
    expect(holders(t, 'env:prod')).toEqual(['a-1']);
  });

  it('a waiter is told again when who holds its lock changes, and only then', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    ask(t, 'b-1', ['env:prod']);
    const effects = ask(t, 'c-1', ['env:prod']);
    expect(effects).toEqual([{ type: 'wait', executionId: 'c-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['a-1'] }]);
    expect(t.release('a-1', null, NOW)).toEqual([
      { type: 'grant', executionId: 'b-1', stage: 'Deploy', tokens: { 'env:prod': 2 } },
      { type: 'wait', executionId: 'c-1', stage: 'Deploy', lock: 'env:prod', heldBy: ['b-1'] },
    ]);
  });

  it('asking for another stage gives back what the execution still had; a withdrawn waiter frees its turn', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:staging'], { stage: 'Staging' });
    ask(t, 'b-1', ['env:staging']);
    ask(t, 'c-1', ['env:staging']);
    expect(granted(ask(t, 'a-1', ['env:prod'], { stage: 'Prod' }))).toEqual(['b-1', 'a-1']);
    expect(t.release('c-1', null, NOW).filter((e) => e.type === 'grant')).toEqual([]);
    expect(waiters(t, 'env:staging')).toEqual([]);
    expect(t.watched().sort()).toEqual(['a-1', 'b-1']);
  });

  it('counts tokens on from its origin, so a table made afresh later never gives a smaller one', () => {
    const t = NamedLockTable.create(T0);
    expect(ask(t, 'a-1', ['env:prod'])).toEqual([
      { type: 'grant', executionId: 'a-1', stage: 'Deploy', tokens: { 'env:prod': T0 + 1 } },
    ]);
  });

  it('never gives a token below a raised floor (a run recovered from an older state)', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    t.release('a-1', null, NOW);
    t.raiseTokens(T0);
    expect(granted(ask(t, 'b-1', ['env:prod']))).toEqual(['b-1']);
    expect(t.lockView('env:prod')!.token).toBe(T0 + 1);
    expect(ask(t, 'c-1', ['db'])).toEqual([
      { type: 'grant', executionId: 'c-1', stage: 'Deploy', tokens: { db: T0 + 1 } },
    ]);
  });

  it('takes a new order only while the lock is idle, so an older request never reorders those waiting', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['db'], { order: 'oldest-first' });
    ask(t, 'b-1', ['db'], { order: 'oldest-first', created: 5 });
    ask(t, 'c-1', ['db'], { order: 'fifo', created: 1 }); // triggered before the config changed
    expect(t.lockView('db')!.order).toBe('oldest-first');
    expect(waiters(t, 'db')).toEqual(['c-1', 'b-1']);
    for (const id of ['a-1', 'c-1', 'b-1']) t.release(id, null, NOW);
    ask(t, 'd-1', ['db'], { order: 'fifo' });
    expect(t.lockView('db')!.order).toBe('fifo');
  });

  it('survives continue-as-new: its data carries everything', () => {
    const t = NamedLockTable.create();
    ask(t, 'a-1', ['env:prod']);
    ask(t, 'b-1', ['env:prod']);
    const copy = new NamedLockTable(JSON.parse(JSON.stringify(t.toJSON())) as NamedLockData);
    expect(granted(copy.release('a-1', null, NOW))).toEqual(['b-1']);
    expect(copy.lockView('env:prod')!.token).toBe(2);
  });
});
