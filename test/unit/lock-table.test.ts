import { describe, expect, it } from 'vitest';
import type { WaitReason } from '../../src/shared/pipeline-state.js';
import type { Effect } from '../../src/workflows/lock-table.js';
import { LockTable } from '../../src/workflows/lock-table.js';

const AT = '2026-11-22T10:00:00.000Z';
const n = (id: string) => Number(id.split('-').pop());
const req = (t: LockTable, id: string, stage = 'Deploy') => t.request(id, n(id), stage, AT);
const grant = (executionId: string, stage = 'Deploy'): Effect => ({ type: 'grant', executionId, stage });
const wait = (executionId: string, why: WaitReason = 'STAGE_LOCK', stage = 'Deploy'): Effect => ({
  type: 'wait',
  executionId,
  stage,
  for: why,
});
const supersede = (executionId: string, by: string | null, stage = 'Deploy'): Effect => ({
  type: 'supersede',
  executionId,
  stage,
  by,
});
const closed = { enabled: false, reason: 'freeze', by: 'bob', at: AT };
const open = { enabled: true, reason: null, by: 'bob', at: AT };

describe('SUPERSEDED mode', () => {
  it("follows the seed's example: 2 waits, 3 supersedes it, 3 enters when 1 leaves", () => {
    const t = LockTable.create('SUPERSEDED', ['Build', 'Deploy']);
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    expect(req(t, 'web-2')).toEqual([wait('web-2')]);
    expect(req(t, 'web-3')).toEqual([supersede('web-2', 'web-3'), wait('web-3')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-1', inbound: [{ executionId: 'web-3' }] });
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-3')]);
    expect(t.view('Deploy')).toMatchObject({
      lockedBy: 'web-3',
      inbound: [],
      latestExecution: { executionId: 'web-3' },
    });
  });

  it('keeps the newer of two waiting executions whatever the order they arrive in', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-1');
    req(t, 'web-5');
    expect(req(t, 'web-4')).toEqual([supersede('web-4', 'web-5')]);
    expect(t.view('Deploy').inbound.map((w) => w.executionId)).toEqual(['web-5']);
  });

  it('releases the lock on failure and on stop', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-1');
    req(t, 'web-2');
    // web-2 enters the stage web-1 failed in: web-1 can no longer be retried.
    expect(t.leave('web-1', 'Deploy', 'Failed')).toEqual([
      { type: 'overtake', executionId: 'web-1', stage: 'Deploy', by: 'web-2' },
      grant('web-2'),
    ]);
    expect(t.leave('web-2', 'Deploy', 'Stopped')).toEqual([]);
    expect(t.view('Deploy')).toMatchObject({
      lockedBy: null,
      latestExecution: { executionId: 'web-2', status: 'Stopped' },
    });
  });
});

describe('overtaking a failed execution (SUPERSEDED)', () => {
  it('tells an older execution that failed or stopped in a stage when a newer one enters it', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-1');
    t.leave('web-1', 'Deploy', 'Failed');
    expect(req(t, 'web-2')).toEqual([
      { type: 'overtake', executionId: 'web-1', stage: 'Deploy', by: 'web-2' },
      grant('web-2'),
    ]);
    t.leave('web-2', 'Deploy', 'Succeeded');
    expect(req(t, 'web-3')).toEqual([grant('web-3')]);
  });

  it('does not overtake when the failed one itself retries', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-1');
    t.leave('web-1', 'Deploy', 'Stopped');
    expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([grant('web-1')]);
  });

  it('overtakes in QUEUED mode too: the seed says so of the flow, whatever the mode', () => {
    const q = LockTable.create('QUEUED', ['Deploy']);
    req(q, 'web-1');
    q.leave('web-1', 'Deploy', 'Failed');
    expect(req(q, 'web-2')).toEqual([
      { type: 'overtake', executionId: 'web-1', stage: 'Deploy', by: 'web-2' },
      grant('web-2'),
    ]);
  });

  it('kept the 0.1 rules while replaying older histories: no overtaking in QUEUED mode', () => {
    const q = LockTable.create('QUEUED', ['Deploy']);
    q.current = false;
    req(q, 'web-1');
    q.leave('web-1', 'Deploy', 'Failed');
    expect(req(q, 'web-2')).toEqual([grant('web-2')]);
  });
});

describe('an older revision never runs a stage after a newer one', () => {
  it('refuses the retry of an execution older than the stage latest, however late the overtake signal', () => {
    for (const mode of ['SUPERSEDED', 'QUEUED'] as const) {
      const t = LockTable.create(mode, ['Deploy']);
      req(t, 'web-1');
      t.leave('web-1', 'Deploy', 'Failed');
      req(t, 'web-2'); // web-2 enters: web-1 is overtaken, but its retry was accepted before it heard so
      t.leave('web-2', 'Deploy', 'Succeeded');
      expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([supersede('web-1', 'web-2')]);
      expect(t.view('Deploy')).toMatchObject({ lockedBy: null, latestExecution: { executionId: 'web-2' } });
    }
  });

  it('refuses a retry queued behind a newer execution when its turn comes (QUEUED, transition disabled)', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    req(t, 'web-1');
    t.leave('web-1', 'Deploy', 'Failed');
    t.setTransition('Deploy', closed);
    expect(req(t, 'web-2')).toEqual([wait('web-2', 'TRANSITION')]);
    expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([wait('web-1', 'TRANSITION')]);
    expect(t.setTransition('Deploy', open)).toEqual([
      { type: 'overtake', executionId: 'web-1', stage: 'Deploy', by: 'web-2' },
      grant('web-2'),
    ]);
    expect(t.leave('web-2', 'Deploy', 'Succeeded')).toEqual([supersede('web-1', 'web-2')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: null, inbound: [] });
  });

  it('in SUPERSEDED mode, refuses any request from an execution older than the one that entered', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-5');
    expect(req(t, 'web-4')).toEqual([supersede('web-4', 'web-5')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-5', inbound: [] });
  });

  it('in QUEUED mode, still queues an older first arrival (only a retry is refused)', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    req(t, 'web-5');
    expect(req(t, 'web-4')).toEqual([wait('web-4')]);
  });

  it('lets an older execution retry while no newer one has entered', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    req(t, 'web-1');
    t.leave('web-1', 'Deploy', 'Failed');
    expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([grant('web-1')]);
  });
});

describe('QUEUED mode', () => {
  it('queues in arrival order and admits one at a time, superseding nobody', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    for (const id of ['web-2', 'web-3', 'web-4']) expect(req(t, id)).toEqual([wait(id)]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-2')]);
    expect(t.leave('web-2', 'Deploy', 'Failed')).toEqual([
      { type: 'overtake', executionId: 'web-2', stage: 'Deploy', by: 'web-3' },
      grant('web-3'),
    ]);
    expect(t.view('Deploy').inbound.map((w) => w.executionId)).toEqual(['web-4']);
  });

  it('admits the first stage in the order numbers were given, whichever execution asks first', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    for (const id of ['web-1', 'web-2', 'web-3']) t.reserve(id, n(id), 'Deploy', AT);
    expect(req(t, 'web-3')).toEqual([wait('web-3')]);
    expect(req(t, 'web-2')).toEqual([wait('web-2')]);
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-2')]);
    expect(t.leave('web-2', 'Deploy', 'Succeeded')).toEqual([grant('web-3')]);
  });

  it('lets the watcher see a kept place only once its execution had time to start', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    t.reserve('web-1', 1, 'Deploy', AT);
    expect(t.watched(AT)).toEqual([]);
    expect(t.watched('2026-11-22T10:00:31.000Z')).toEqual(['web-1']);
    expect([t.watchesAny(), t.watchesAny(AT), t.watchesAny('2026-11-22T10:00:31.000Z')]).toEqual([true, false, true]);
    // It never started: withdrawn, the next one enters.
    t.reserve('web-2', 2, 'Deploy', AT);
    req(t, 'web-2');
    expect(t.withdraw('web-1')).toEqual([grant('web-2')]);
  });

  it('keeps no place in SUPERSEDED mode', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    t.reserve('web-1', 1, 'Deploy', AT);
    expect(t.view('Deploy').inbound).toEqual([]);
  });

  it('keeps a queue per stage', () => {
    const t = LockTable.create('QUEUED', ['Build', 'Deploy']);
    req(t, 'web-1', 'Build');
    req(t, 'web-2', 'Build');
    req(t, 'web-3', 'Deploy');
    req(t, 'web-4', 'Deploy');
    expect(t.view('Build').inbound.map((w) => w.executionId)).toEqual(['web-2']);
    expect(t.view('Deploy').inbound.map((w) => w.executionId)).toEqual(['web-4']);
  });
});

describe('PARALLEL mode', () => {
  it('grants every request at once and locks nothing', () => {
    const t = LockTable.create('PARALLEL', ['Deploy']);
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    expect(req(t, 'web-2')).toEqual([grant('web-2')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: null, inbound: [] });
  });
});

describe('transitions on PARALLEL pipelines (executions told the transition is disabled ask first)', () => {
  it('hold every arrival while disabled, superseding nobody; enabling lets them all in, with no lock', () => {
    const t = LockTable.create('PARALLEL', ['Deploy']);
    t.setTransition('Deploy', closed);
    for (const id of ['web-1', 'web-2', 'web-3']) expect(req(t, id)).toEqual([wait(id, 'TRANSITION')]);
    expect(t.setTransition('Deploy', open)).toEqual([grant('web-1'), grant('web-2'), grant('web-3')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: null, holders: [], inbound: [] });
    expect(req(t, 'web-4')).toEqual([grant('web-4')]);
  });

  it('an execution that leaves shows as the latest, and one that asks again is let in at once', () => {
    const t = LockTable.create('PARALLEL', ['Deploy']);
    req(t, 'web-1');
    expect(t.leave('web-1', 'Deploy', 'Failed')).toEqual([]);
    expect(t.view('Deploy').latestExecution).toEqual({ executionId: 'web-1', status: 'Failed' });
    expect(req(t, 'web-2')).toEqual([grant('web-2')]);
    expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([grant('web-1')]);
  });
});

describe('transitions', () => {
  it('hold arrivals while disabled; in SUPERSEDED the newer still supersedes; enabling admits the one waiting', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    expect(t.setTransition('Deploy', closed)).toEqual([]);
    expect(req(t, 'web-1')).toEqual([wait('web-1', 'TRANSITION')]);
    expect(req(t, 'web-2')).toEqual([supersede('web-1', 'web-2'), wait('web-2', 'TRANSITION')]);
    expect(t.view('Deploy')).toMatchObject({
      transition: closed,
      inbound: [{ executionId: 'web-2', waitingFor: 'TRANSITION' }],
    });
    expect(t.setTransition('Deploy', open)).toEqual([grant('web-2')]);
  });

  it('in QUEUED mode admit the head of the queue on enabling', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    t.setTransition('Deploy', closed);
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.setTransition('Deploy', open)).toEqual([grant('web-1')]);
  });

  it('tell waiting executions why they wait when a transition closes behind a lock', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.setTransition('Deploy', closed)).toEqual([wait('web-2', 'TRANSITION')]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([]);
    expect(t.view('Deploy').lockedBy).toBeNull();
  });
});

describe('withdrawing and redefining', () => {
  it('frees the locks and places of an execution that is gone', () => {
    const t = LockTable.create('QUEUED', ['Build', 'Deploy']);
    req(t, 'web-1', 'Deploy');
    req(t, 'web-2', 'Deploy');
    req(t, 'web-3', 'Deploy');
    expect(t.watched().sort()).toEqual(['web-1', 'web-2', 'web-3']);
    expect(t.withdraw('web-2')).toEqual([]);
    expect(t.withdraw('web-1')).toEqual([grant('web-3')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-3', inbound: [] });
  });

  it('watches lock holders and those waiting, and nobody once all are gone', () => {
    const t = LockTable.create('QUEUED', ['Build', 'Deploy']);
    expect(t.watchesAny()).toBe(false);
    req(t, 'web-1', 'Deploy');
    expect([t.watchesAny(), t.watchesAny(AT)]).toEqual([true, true]);
    req(t, 'web-2', 'Deploy');
    t.leave('web-1', 'Deploy', 'Succeeded');
    expect(t.watched()).toEqual(['web-2']);
    t.leave('web-2', 'Deploy', 'Succeeded');
    expect([t.watched(), t.watchesAny()]).toEqual([[], false]);
  });

  it('changes nothing when withdrawing an execution that holds and waits for nothing (it left already)', () => {
    const t = LockTable.create('QUEUED', ['Build', 'Deploy']);
    for (const id of ['web-1', 'web-2', 'web-3']) req(t, id);
    t.leave('web-1', 'Deploy', 'Succeeded');
    const before = JSON.stringify(t.toJSON());
    expect(t.withdraw('web-1')).toEqual([]);
    expect(JSON.stringify(t.toJSON())).toBe(before);
    expect(t.withdraw('web-3')).toEqual([]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-2', inbound: [] });
  });

  it('grants again to an execution that asks twice (a reset workflow)', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    req(t, 'web-1');
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    req(t, 'web-2');
    expect(req(t, 'web-2')).toEqual([wait('web-2')]);
  });

  it('QUEUED → SUPERSEDED keeps only the newest waiter per stage', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    for (const id of ['web-1', 'web-2', 'web-3', 'web-4']) req(t, id);
    expect(t.redefine('SUPERSEDED', ['Deploy'])).toEqual([supersede('web-2', 'web-4'), supersede('web-3', 'web-4')]);
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-1', inbound: [{ executionId: 'web-4' }] });
  });

  it('→ PARALLEL admits everyone waiting for a lock', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    for (const id of ['web-1', 'web-2', 'web-3']) req(t, id);
    expect(t.redefine('PARALLEL', ['Deploy'])).toEqual([grant('web-2'), grant('web-3')]);
  });

  it('serves stages an older definition still names, and drops them once idle', () => {
    const t = LockTable.create('QUEUED', ['Old']);
    req(t, 'web-1', 'Old');
    t.redefine('QUEUED', ['New']);
    expect(req(t, 'web-2', 'Old')).toEqual([wait('web-2', 'STAGE_LOCK', 'Old')]);
    expect(t.leave('web-1', 'Old', 'Succeeded')).toEqual([grant('web-2', 'Old')]);
    t.leave('web-2', 'Old', 'Succeeded');
    t.redefine('QUEUED', ['New']);
    expect(t.hasStage('Old')).toBe(false);
  });
});

describe('stage concurrency (a pool of slots)', () => {
  const overtake = (executionId: string, by: string): Effect => ({
    type: 'overtake',
    executionId,
    stage: 'Deploy',
    by,
  });
  const pool = (mode: 'QUEUED' | 'SUPERSEDED', slots = 2) => LockTable.create(mode, ['Deploy'], { Deploy: slots });

  it('QUEUED: up to N hold the stage; the others queue and take free slots in arrival order', () => {
    const t = pool('QUEUED');
    expect(req(t, 'web-1')).toEqual([grant('web-1')]);
    expect(req(t, 'web-2')).toEqual([grant('web-2')]);
    for (const id of ['web-3', 'web-4', 'web-5']) expect(req(t, id)).toEqual([wait(id)]);
    expect(t.leave('web-2', 'Deploy', 'Succeeded')).toEqual([grant('web-3')]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-4')]);
    expect(t.view('Deploy')).toMatchObject({ holders: ['web-3', 'web-4'], inbound: [{ executionId: 'web-5' }] });
  });

  it('SUPERSEDED: one waits for a slot; a newer arrival supersedes it', () => {
    const t = pool('SUPERSEDED');
    req(t, 'web-1');
    req(t, 'web-2');
    expect(req(t, 'web-3')).toEqual([wait('web-3')]);
    expect(req(t, 'web-4')).toEqual([supersede('web-3', 'web-4'), wait('web-4')]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-4')]);
  });

  it('shows every holder, the oldest as lockedBy, and the number of slots', () => {
    const t = pool('QUEUED', 3);
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.view('Deploy')).toMatchObject({ concurrency: 3, lockedBy: 'web-1', holders: ['web-1', 'web-2'] });
    t.leave('web-1', 'Deploy', 'Succeeded');
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-2', holders: ['web-2'] });
    expect(LockTable.create('QUEUED', ['Deploy']).view('Deploy')).toMatchObject({ concurrency: 1, holders: [] });
    expect(t.watched()).toEqual(['web-2']);
  });

  it('a slot freed by failure, stop or withdrawal admits the next', () => {
    const t = pool('QUEUED');
    for (const id of ['web-1', 'web-2', 'web-3', 'web-4', 'web-5']) req(t, id);
    // web-3, newer, enters the stage web-2 stopped in: web-2 can no longer be retried.
    expect(t.leave('web-2', 'Deploy', 'Stopped')).toEqual([overtake('web-2', 'web-3'), grant('web-3')]);
    expect(t.withdraw('web-1')).toEqual([grant('web-4')]);
    // web-3 failed while web-4, newer, was in the stage: it is overtaken at once.
    expect(t.leave('web-3', 'Deploy', 'Failed')).toEqual([overtake('web-3', 'web-4'), grant('web-5')]);
  });

  it('overtakes one that failed after a newer one entered beside it, at once', () => {
    const t = pool('QUEUED');
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.leave('web-1', 'Deploy', 'Failed')).toEqual([overtake('web-1', 'web-2')]);
  });

  it('overtakes one that failed beside an older one when a newer one enters', () => {
    const t = pool('QUEUED');
    // QUEUED lets an older execution reach a later stage after a newer one (only retries are refused).
    req(t, 'web-2');
    req(t, 'web-1');
    expect(t.leave('web-2', 'Deploy', 'Failed')).toEqual([]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([]);
    expect(req(t, 'web-3')).toEqual([overtake('web-2', 'web-3'), grant('web-3')]);
    expect(t.toJSON().stages.Deploy!.unfinished).toBeUndefined();
  });

  it('lets one that failed retry while no newer one entered, and never overtakes it once back in', () => {
    const t = pool('SUPERSEDED');
    req(t, 'web-1');
    req(t, 'web-2');
    t.leave('web-1', 'Deploy', 'Failed');
    t.leave('web-2', 'Deploy', 'Succeeded');
    expect(t.request('web-1', 1, 'Deploy', AT, true)).toEqual([supersede('web-1', 'web-2')]);
    const u = pool('SUPERSEDED');
    req(u, 'web-1');
    req(u, 'web-2');
    u.leave('web-2', 'Deploy', 'Failed');
    expect(u.request('web-2', 2, 'Deploy', AT, true)).toEqual([grant('web-2')]);
    u.leave('web-1', 'Deploy', 'Succeeded');
    expect(req(u, 'web-3')).toEqual([grant('web-3')]);
  });

  it('a disabled transition holds arrivals even with slots free; enabling fills the free slots', () => {
    const t = pool('QUEUED');
    t.setTransition('Deploy', closed);
    for (const id of ['web-1', 'web-2', 'web-3']) expect(req(t, id)).toEqual([wait(id, 'TRANSITION')]);
    expect(t.setTransition('Deploy', open)).toEqual([grant('web-1'), grant('web-2')]);
  });

  it('more slots in a new definition admit waiters; fewer let the holders finish first', () => {
    const t = pool('QUEUED');
    for (const id of ['web-1', 'web-2', 'web-3', 'web-4', 'web-5']) req(t, id);
    expect(t.redefine('QUEUED', ['Deploy'], { Deploy: 3 })).toEqual([grant('web-3')]);
    expect(t.redefine('QUEUED', ['Deploy'])).toEqual([]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([]);
    expect(t.leave('web-2', 'Deploy', 'Succeeded')).toEqual([]);
    expect(t.leave('web-3', 'Deploy', 'Succeeded')).toEqual([grant('web-4')]);
    expect(t.view('Deploy')).toMatchObject({ concurrency: 1, holders: ['web-4'] });
  });

  it('a coordinator started afresh gives up to N running executions their slots back', () => {
    const t = pool('QUEUED');
    const running = (id: string, holds: string | null, waitsFor: string | null = null) => ({
      executionId: id,
      n: n(id),
      holds,
      waitsFor,
    });
    expect(
      t.restore([running('web-1', 'Deploy'), running('web-2', 'Deploy'), running('web-3', null, 'Deploy')]),
    ).toEqual([]);
    expect(t.view('Deploy')).toMatchObject({ holders: ['web-1', 'web-2'], inbound: [{ executionId: 'web-3' }] });
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-3')]);
  });

  it('loads a table written before stage concurrency: its one holder holds the only slot', () => {
    const latest = { executionId: 'web-1', n: 1, status: 'InProgress' };
    const t = new LockTable({
      mode: 'QUEUED',
      stages: { Deploy: { holder: 'web-1', inbound: [], transition: open, latest } as never },
    });
    expect(t.view('Deploy')).toMatchObject({ lockedBy: 'web-1', holders: ['web-1'], concurrency: 1 });
    expect(req(t, 'web-2')).toEqual([wait('web-2')]);
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([grant('web-2')]);
    expect(JSON.stringify(t.toJSON())).not.toContain('"holder"');
  });
});

describe('stages shut by their calendar (deployment windows, freezes)', () => {
  const shut = { reason: 'outside its deployment windows', opensAt: '2026-11-23T08:00:00.000Z' };
  const windowWait = (executionId: string): Effect => ({
    type: 'wait',
    executionId,
    stage: 'Deploy',
    for: 'WINDOW',
    opensAt: shut.opensAt,
  });

  it('hold arrivals, saying when the stage opens; opening lets the waiting one in', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    expect(t.setShut('Deploy', shut)).toEqual([]);
    expect(req(t, 'web-1')).toEqual([windowWait('web-1')]);
    expect(req(t, 'web-2')).toEqual([windowWait('web-2')]);
    expect(t.view('Deploy')).toMatchObject({ window: shut, inbound: [{ waitingFor: 'WINDOW' }, {}] });
    expect(t.setShut('Deploy', null)).toEqual([grant('web-1')]);
    expect(t.view('Deploy').window).toBeNull();
  });

  it('in SUPERSEDED mode still let the newer arrival supersede the waiting one', () => {
    const t = LockTable.create('SUPERSEDED', ['Deploy']);
    t.setShut('Deploy', shut);
    req(t, 'web-1');
    expect(req(t, 'web-2')).toEqual([supersede('web-1', 'web-2'), windowWait('web-2')]);
  });

  it('tell those waiting for the lock that they now wait for the window; a disabled transition comes first', () => {
    const t = LockTable.create('QUEUED', ['Deploy']);
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.setShut('Deploy', shut)).toEqual([windowWait('web-2')]);
    // The holder stays in the stage; leaving admits nobody while the stage is shut.
    expect(t.leave('web-1', 'Deploy', 'Succeeded')).toEqual([]);
    expect(t.setTransition('Deploy', closed)).toEqual([wait('web-2', 'TRANSITION')]);
    expect(t.setShut('Deploy', null)).toEqual([]);
    expect(t.setTransition('Deploy', open)).toEqual([grant('web-2')]);
  });

  it('hold PARALLEL executions too, and let them all in when open', () => {
    const t = LockTable.create('PARALLEL', ['Deploy']);
    t.setShut('Deploy', shut);
    expect(req(t, 'web-1')).toEqual([windowWait('web-1')]);
    expect(req(t, 'web-2')).toEqual([windowWait('web-2')]);
    expect(t.setShut('Deploy', null)).toEqual([grant('web-1'), grant('web-2')]);
  });

  it('let an admin pass one waiting execution through, when only the window holds it', () => {
    const pass = { by: 'alice', reason: 'hotfix', at: AT };
    const t = LockTable.create('QUEUED', ['Deploy']);
    t.setShut('Deploy', shut);
    req(t, 'web-1');
    req(t, 'web-2');
    expect(t.refusePass('web-3', 'Deploy')).toMatch(/does not wait/);
    expect(t.pass('web-2', 'Deploy', pass)).toEqual([{ ...grant('web-2'), pass }]);
    expect(t.view('Deploy')).toMatchObject({ holders: ['web-2'], inbound: [{ executionId: 'web-1' }] });
    // The stage is now locked by web-2: no second pass until it is free.
    expect(t.refusePass('web-1', 'Deploy')).toMatch(/locked by web-2/);
    expect(t.pass('web-1', 'Deploy', pass)).toEqual([]);
    t.leave('web-2', 'Deploy', 'Succeeded');
    t.setTransition('Deploy', closed);
    expect(t.refusePass('web-1', 'Deploy')).toMatch(/transition .* is disabled/);
    t.setTransition('Deploy', open);
    t.setShut('Deploy', null);
    expect(t.view('Deploy').holders).toEqual(['web-1']);
  });
});
