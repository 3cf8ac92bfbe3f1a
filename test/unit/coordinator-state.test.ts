import { describe, expect, it } from 'vitest';
import { definitionSchemas } from '../../src/shared/definition.js';
import type { CoordinatorData } from '../../src/workflows/coordinator-state.js';
import { CoordinatorState, IDEMPOTENCY_KEYS_KEPT, IdempotencyConflict } from '../../src/workflows/coordinator-state.js';

const def = (cmd = 'true') =>
  definitionSchemas().pipelineDefinition.parse({
    name: 'web',
    stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: cmd }] }],
  });
const AT = '2026-11-22T10:00:00.000Z';

describe('the coordinator state', () => {
  it('reports the creation once, then versions only real changes', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    expect(s.putDefinition(def(), 'alice', AT).result).toEqual({ version: 1, changed: false, created: true });
    expect(s.putDefinition(def(), 'alice', AT).result).toEqual({ version: 1, changed: false, created: false });
    expect(s.putDefinition(def('false'), 'bob', AT).result).toEqual({ version: 2, changed: true, created: false });
    expect(s.snapshot()).toMatchObject({ version: 2, updatedBy: 'bob' });
  });

  it('numbers executions and keeps numbering after a delete and re-create', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-1');
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-2');
    s.markDeleted('alice', AT);
    expect(s.snapshot().deleted).toBe(true);
    expect(s.putDefinition(def(), 'alice', AT).result).toMatchObject({ created: true, version: 2 });
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-3');
  });

  it('returns the same execution for a repeated idempotency key, and refuses it with another request', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    const first = s.allocate({ by: 'bob', idempotencyKey: 'k', requestDigest: 'd1' }, AT);
    expect(first.created).toBe(true);
    const again = s.allocate({ by: 'bob', idempotencyKey: 'k', requestDigest: 'd1' }, AT);
    expect(again).toMatchObject({ executionId: first.executionId, created: false });
    expect(() => s.checkAllocation({ by: 'bob', idempotencyKey: 'k', requestDigest: 'd2' })).toThrow(
      IdempotencyConflict,
    );
    expect(s.snapshot().executionsStarted).toBe(1);
  });

  it('numbers a batch of requests in order, a key repeated within it finding the execution it made', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.allocate({ by: 'bob', requestDigest: 'd' }, AT);
    const batch = [
      { by: 'bob', requestDigest: 'd' },
      { by: 'ann', idempotencyKey: 'k', requestDigest: 'd1' },
      { by: 'ann', idempotencyKey: 'k', requestDigest: 'd1' },
      { by: 'cy', requestDigest: 'd' },
    ];
    s.checkAllocations(batch);
    const result = s.allocateAll(batch, AT);
    expect(result).toMatchObject({ pipelineVersion: 1, definition: { name: 'web' } });
    expect(result.allocations).toEqual([
      { executionId: 'web-2', created: true },
      { executionId: 'web-3', created: true },
      { executionId: 'web-3', created: false, at: AT },
      { executionId: 'web-4', created: true },
    ]);
  });

  it('refuses a batch reusing a key with another request, within it or before it, and numbers nothing', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.allocate({ by: 'bob', idempotencyKey: 'old', requestDigest: 'd1' }, AT);
    const within = [
      { by: 'ann', idempotencyKey: 'k', requestDigest: 'd1' },
      { by: 'ann', idempotencyKey: 'k', requestDigest: 'd2' },
    ];
    expect(() => s.checkAllocations(within)).toThrow(IdempotencyConflict);
    expect(() =>
      s.checkAllocations([
        { by: 'ann', requestDigest: 'd' },
        { by: 'ann', idempotencyKey: 'old', requestDigest: 'd2' },
      ]),
    ).toThrow(IdempotencyConflict);
    expect(s.snapshot().executionsStarted).toBe(1);
  });

  it('forgets the oldest idempotency keys beyond the limit', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    for (let i = 0; i <= IDEMPOTENCY_KEYS_KEPT; i++)
      s.allocate({ by: 'b', idempotencyKey: `k${i}`, requestDigest: 'd' }, AT);
    expect(s.allocate({ by: 'b', idempotencyKey: 'k0', requestDigest: 'd' }, AT).created).toBe(true);
    expect(s.allocate({ by: 'b', idempotencyKey: `k${IDEMPOTENCY_KEYS_KEPT}`, requestDigest: 'd' }, AT).created).toBe(
      false,
    );
  });

  it('survives continue-as-new as plain JSON', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.allocate({ by: 'bob', idempotencyKey: 'k', requestDigest: 'd' }, AT);
    const restored = CoordinatorState.restore(JSON.parse(JSON.stringify(s.toJSON())) as CoordinatorData);
    expect(restored.allocate({ by: 'bob', idempotencyKey: 'k', requestDigest: 'd' }, AT).executionId).toBe('web-1');
    expect(restored.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-2');
  });
});

describe('a new definition and the locks', () => {
  it('applies a mode change to those waiting', () => {
    const queued = definitionSchemas().pipelineDefinition.parse({
      name: 'web',
      executionMode: 'QUEUED',
      stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    });
    const s = CoordinatorState.create(queued, 'alice', AT);
    for (const id of ['web-1', 'web-2', 'web-3']) s.locks.request(id, Number(id.slice(4)), 'S', AT);
    const { effects } = s.putDefinition({ ...queued, executionMode: 'SUPERSEDED' }, 'alice', AT);
    expect(effects).toEqual([{ type: 'supersede', executionId: 'web-2', stage: 'S', by: 'web-3' }]);
    expect(s.state().stages[0]).toMatchObject({ lockedBy: 'web-1', inbound: [{ executionId: 'web-3' }] });
  });
});

describe('a coordinator started afresh', () => {
  const snapshot = (over: object = {}) => ({
    ...CoordinatorState.create(def('false'), 'bob', AT).snapshot(),
    version: 4,
    executionsStarted: 7,
    ...over,
  });

  it('takes over version, counter and definition from its terminated run: a put of the same makes no version', () => {
    const s = CoordinatorState.create(def('false'), 'alice', AT);
    s.recover({ previous: snapshot(), highestExecution: 9, running: [] });
    expect(s.putDefinition(def('false'), 'alice', AT).result).toEqual({ version: 4, changed: false, created: false });
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-10');
    expect(s.putDefinition(def('true'), 'alice', AT).result).toMatchObject({ version: 5, changed: true });
  });

  it('counts on from the executions Temporal has when nothing of the previous run can be read', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.recover({ previous: null, highestExecution: 3, running: [] });
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-4');
  });

  it('gives the running executions their locks and places back, and admits waiters of free stages', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    const effects = s.recover({
      previous: null,
      highestExecution: 3,
      running: [
        { executionId: 'web-3', n: 3, holds: null, waitsFor: 'S' },
        { executionId: 'web-1', n: 1, holds: 'S', waitsFor: null },
        { executionId: 'web-2', n: 2, holds: null, waitsFor: 'S' },
      ],
    });
    // SUPERSEDED: of the two waiting, the newer keeps the place.
    expect(effects).toEqual([{ type: 'supersede', executionId: 'web-2', stage: 'S', by: 'web-3' }]);
    expect(s.state().stages[0]).toMatchObject({ lockedBy: 'web-1', inbound: [{ executionId: 'web-3' }] });
    expect(s.locks.leave('web-1', 'S', 'Succeeded')).toEqual([{ type: 'grant', executionId: 'web-3', stage: 'S' }]);
  });

  it('never gives an id the executions already have after a reset', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.advanceExecutions(12);
    s.advanceExecutions(5);
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).executionId).toBe('web-13');
  });
});

describe('transitions on PARALLEL pipelines', () => {
  const parallel = () =>
    definitionSchemas().pipelineDefinition.parse({
      name: 'web',
      executionMode: 'PARALLEL',
      stages: ['Build', 'Deploy'].map((name) => ({ name, actions: [{ name: 'a', type: 'command', run: 'true' }] })),
    });
  const later = (ms: number) => new Date(Date.parse(AT) + ms).toISOString();
  const closed = { enabled: false, reason: 'freeze', by: 'bob', at: AT };

  it('gives a new execution the stages whose transition is disabled, for it to ask before', () => {
    const s = CoordinatorState.create(parallel(), 'alice', AT);
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT)).not.toHaveProperty('closedStages');
    s.locks.setTransition('Deploy', closed);
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT).closedStages).toEqual(['Deploy']);
  });

  it('gives no closed stages in the locked modes, whose executions always ask', () => {
    const s = CoordinatorState.create(def(), 'alice', AT);
    s.locks.setTransition('S', closed);
    expect(s.allocate({ by: 'bob', requestDigest: 'd' }, AT)).not.toHaveProperty('closedStages');
    expect(s.recentAllocations(AT)).toEqual([]);
  });

  it('remembers the executions given their ids lately, until they must have started, unless forgotten', () => {
    const s = CoordinatorState.create(parallel(), 'alice', AT);
    s.allocate({ by: 'bob', requestDigest: 'd' }, AT);
    s.allocate({ by: 'bob', requestDigest: 'd' }, later(6_000));
    s.allocate({ by: 'bob', requestDigest: 'd' }, later(7_000));
    expect(s.recentAllocations(later(9_000)).map((r) => r.executionId)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(s.recentAllocations(later(12_000)).map((r) => r.executionId)).toEqual(['web-2', 'web-3']);
    s.forget('web-3');
    expect(s.recentAllocations(later(12_000)).map((r) => r.executionId)).toEqual(['web-2']);
    // Each allocation drops those too old to matter, so the list stays small.
    s.allocate({ by: 'bob', requestDigest: 'd' }, later(30_000));
    expect(s.toJSON().recent).toEqual([{ executionId: 'web-4', at: later(30_000) }]);
  });
});

describe('deployment windows and freezes', () => {
  const withCalendar = (extra: Record<string, unknown> = {}) =>
    definitionSchemas().pipelineDefinition.parse({
      name: 'web',
      executionMode: 'QUEUED',
      stages: [
        { name: 'Build', actions: [{ name: 'a', type: 'command', run: 'true' }] },
        {
          name: 'Deploy',
          windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timeZone: 'Europe/Madrid' }],
          actions: [{ name: 'a', type: 'command', run: 'true' }],
        },
      ],
      ...extra,
    });
  const ms = (iso: string) => Date.parse(iso);

  it('shut a stage outside its windows until they open, and open it then (the next change is the timer)', () => {
    const s = CoordinatorState.create(withCalendar(), 'alice', AT);
    // Friday 4 December 2026, 10:00 in Madrid: shut until Monday 09:00.
    expect(s.applyCalendars(ms('2026-12-04T09:00:00Z'))).toEqual({ effects: [], next: ms('2026-12-07T08:00:00Z') });
    expect(s.state().stages.map((st) => st.window)).toEqual([
      null,
      { reason: 'outside its deployment windows', opensAt: '2026-12-07T08:00:00.000Z' },
    ]);
    s.locks.request('web-1', 1, 'Deploy', AT);
    expect(s.applyCalendars(ms('2026-12-07T08:00:00Z'))).toEqual({
      effects: [{ type: 'grant', executionId: 'web-1', stage: 'Deploy' }],
      next: ms('2026-12-07T15:00:00Z'),
    });
  });

  it('freeze every stage with the freeze reason, and let a new definition lift the calendar', () => {
    const freezes = [{ from: '2026-12-20T00:00:00Z', to: '2027-01-07T00:00:00Z', reason: 'year-end freeze' }];
    const s = CoordinatorState.create(withCalendar({ freezes }), 'alice', AT);
    s.applyCalendars(ms('2026-12-21T10:00:00Z'));
    expect(s.state().stages.map((st) => st.window?.reason)).toEqual(['year-end freeze', 'year-end freeze']);
    expect(s.state().stages[0]!.window!.opensAt).toBe('2027-01-07T00:00:00.000Z');
    s.putDefinition(def(), 'alice', AT);
    expect(s.calendars()).toEqual({});
    expect(s.applyCalendars(ms('2026-12-21T10:00:00Z')).next).toBeNull();
    expect(s.state().stages.every((st) => st.window === null)).toBe(true);
  });
});
