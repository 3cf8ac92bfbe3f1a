import { describe, expect, it } from 'vitest';
import { definitionSchemas } from '../../src/shared/definition.js';
import type { ApprovalAction, PauseAction } from '../../src/shared/definition.js';
import { DecisionRefused, ManualWaits } from '../../src/workflows/manual-steps.js';

const def = definitionSchemas().pipelineDefinition.parse({
  name: 'web',
  stages: [
    {
      name: 'S',
      actions: [
        { name: 'gate', type: 'approval', approvers: { users: ['ann'], groups: ['leads'] }, required: 2 },
        { name: 'hold', type: 'pause', allowed: { users: ['vic'], groups: [] } },
      ],
    },
  ],
});
const gate = def.stages[0]!.actions[0] as ApprovalAction;
const hold = def.stages[0]!.actions[1] as PauseAction;
const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return err instanceof DecisionRefused ? err.reason : 'other';
  }
  return null;
};
const waits = () =>
  new ManualWaits('tom', (stage, action) => stage === 'S' && ['gate', 'hold', 'probe'].includes(action));
const d = (by: string, groups: string[] = [], extra = {}) => ({
  stage: 'S',
  action: 'gate',
  decision: 'approve' as const,
  by,
  groups,
  ...extra,
});

describe('approvals', () => {
  it('count distinct allowed people, refuse others and the triggerer, and end on a rejection', () => {
    const w = waits();
    w.open('S', 'gate', 'approval', gate);
    expect(refusal(() => w.approve(d('eve')))).toBe('forbidden');
    expect(refusal(() => w.approve(d('tom', ['leads'])))).toBe('forbidden');
    w.approve(d('ann'));
    expect(refusal(() => w.approve(d('ann')))).toBe('not-waiting');
    expect(w.outcome('S', 'gate')).toBeNull();
    w.approve(d('lee', ['leads']));
    expect(w.outcome('S', 'gate')).toEqual({ kind: 'approved' });
    const r = waits();
    r.open('S', 'gate', 'approval', gate);
    r.approve(d('ann', [], { decision: 'reject' }));
    expect(r.outcome('S', 'gate')).toEqual({ kind: 'rejected', by: 'ann' });
  });

  it('let the triggerer approve with allowSelfApproval', () => {
    const w = waits();
    w.open('S', 'gate', 'approval', { ...gate, allowSelfApproval: true, required: 1 });
    w.approve(d('tom', ['leads']));
    expect(w.outcome('S', 'gate')).toEqual({ kind: 'approved' });
  });

  it('refuse decisions on steps that do not wait, or do not exist', () => {
    const w = waits();
    expect(refusal(() => w.approve(d('ann')))).toBe('not-waiting');
    expect(refusal(() => w.approve({ ...d('ann'), action: 'nope' }))).toBe('unknown');
    w.open('S', 'hold', 'resume', hold);
    expect(refusal(() => w.approve({ ...d('ann'), action: 'hold' }))).toBe('not-waiting');
  });
});

describe('pauses and traps', () => {
  it('pauses are resumed by operators or their allowed people', () => {
    const w = waits();
    w.open('S', 'hold', 'resume', hold);
    const resume = (by: string, roles: string[]) => ({ stage: 'S', action: 'hold', by, roles });
    expect(refusal(() => w.resume(resume('eve', ['viewer'])))).toBe('forbidden');
    w.resume(resume('vic', ['viewer']));
    expect(w.outcome('S', 'hold')).toEqual({ kind: 'resumed', by: 'vic' });
  });

  it('traps are decided by operators', () => {
    const w = waits();
    w.open('S', 'probe', 'trap');
    const decide = (by: string, roles: string[]) => ({
      stage: 'S',
      action: 'probe',
      decision: 'skip' as const,
      by,
      roles,
    });
    expect(refusal(() => w.decideTrap(decide('eve', ['viewer'])))).toBe('forbidden');
    w.decideTrap(decide('bob', ['operator']));
    expect(w.outcome('S', 'probe')).toEqual({ kind: 'trap', decision: 'skip', by: 'bob' });
  });
});

describe('what waits (PasoWaiting)', () => {
  it('is told as waits open and close: each kind once, sorted; nothing for a step that was not waiting', () => {
    const told: string[][] = [];
    const w = new ManualWaits(
      'tom',
      () => true,
      (kinds) => told.push(kinds),
    );
    w.open('S', 'gate', 'approval', gate);
    w.open('S', 'other', 'approval', gate);
    w.open('S', 'probe', 'trap');
    w.close('S', 'gate');
    w.close('S', 'build'); // a command abandoned by a stop: it was not waiting for anyone
    w.close('S', 'other');
    expect(told).toEqual([['approval'], ['approval'], ['approval', 'trap'], ['approval', 'trap'], ['trap']]);
    w.closeAll();
    w.closeAll();
    expect(told.at(-1)).toEqual([]);
    expect(told).toHaveLength(6);
  });
});
