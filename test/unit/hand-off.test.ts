/**
 * Which stage's last command gives the stage on as it ends (src/workflows/hand-off.ts): where a success of the
 * command settles the stage, and never where a lost worker after it could make the execution act on a stage
 * already given on.
 */
import { describe, expect, it } from 'vitest';
import type { CommandAction } from '../../src/shared/definition.js';
import { definitionSchemas } from '../../src/shared/definition.js';
import type { ExecutionInput } from '../../src/shared/execution.js';
import { handOffFor, HandOffs } from '../../src/workflows/hand-off.js';

function caseOf(definition: object, extra: { leavingInRequest?: boolean; stopping?: boolean; stage?: number } = {}) {
  const parsed = definitionSchemas().pipelineDefinition.parse({ name: 'web', ...definition });
  const index = extra.stage ?? 0;
  const stage = parsed.stages[index]!;
  return {
    input: { executionId: 'web-7', definition: parsed } as unknown as ExecutionInput,
    coordinator: 'paso-coordinator-web',
    stage,
    action: stage.actions.at(-1) as CommandAction,
    next: parsed.stages[index + 1] ?? null,
    leavingInRequest: extra.leavingInRequest ?? true,
    stopping: extra.stopping ?? false,
  };
}

const command = (more: object = {}) => ({ name: 'ship', type: 'command', run: 'true', ...more });
const twoStages = (mode: string, build: object = command(), more: object = {}) => ({
  executionMode: mode,
  stages: [
    { name: 'Build', actions: [build], ...more },
    { name: 'Deploy', actions: [command()] },
  ],
});

describe('the hand-off of a stage by its last command', () => {
  it('asks for the next stage and leaves this one, in the one signal the workflow would send', () => {
    expect(handOffFor(caseOf(twoStages('QUEUED')))).toEqual({
      coordinator: 'paso-coordinator-web',
      signal: 'requestStage',
      payload: { executionId: 'web-7', stage: 'Deploy', leaving: { stage: 'Build', outcome: 'Succeeded' } },
    });
    expect(handOffFor(caseOf(twoStages('SUPERSEDED'), { stage: 1 }))).toEqual({
      coordinator: 'paso-coordinator-web',
      signal: 'leaveStage',
      payload: { executionId: 'web-7', stage: 'Deploy', outcome: 'Succeeded' },
    });
  });

  it('is not armed where a success does not settle the stage or a lost worker could act on a stage given on', () => {
    const refused = {
      'PARALLEL (no lock)': caseOf(twoStages('PARALLEL')),
      'a trap on failure': caseOf(twoStages('QUEUED', command({ onError: 'trap' }))),
      'onWorkerLoss: rerun': caseOf(twoStages('QUEUED', command({ onWorkerLoss: 'rerun' }))),
      'a rollback on failure': caseOf({ ...twoStages('QUEUED'), rollbackOnFailure: true }),
      'named locks': caseOf(twoStages('QUEUED', command(), { locks: ['prod-db'] })),
      'two slots': caseOf(twoStages('QUEUED', command(), { concurrency: 2 })),
      'a stop asked already': caseOf(twoStages('QUEUED'), { stopping: true }),
      'two signals (a coordinator without leaving)': caseOf(twoStages('QUEUED'), { leavingInRequest: false }),
    };
    for (const [why, c] of Object.entries(refused)) expect([why, handOffFor(c)]).toEqual([why, null]);
  });

  it('is told what became of it: sent, unsent (nothing to do), unknown when the command never reported, none when it never started', () => {
    const handOffs = new HandOffs();
    const handOff = handOffFor(caseOf(twoStages('QUEUED')))!;
    handOffs.arm('Build', 'ship', handOff);
    expect(handOffs.for('Build', 'other')).toBeUndefined();
    expect(handOffs.for('Build', 'ship')).toBe(handOff);
    handOffs.ended('Build', 'ship', 'sent');
    expect(handOffs.take('Build')).toEqual({ result: 'sent', askedNext: true });
    expect(handOffs.take('Build')).toBeNull();

    handOffs.arm('Build', 'ship', handOff);
    handOffs.for('Build', 'ship');
    handOffs.ended('Build', 'ship', 'unsent');
    expect(handOffs.take('Build')).toBeNull();

    handOffs.arm('Build', 'ship', handOff);
    handOffs.for('Build', 'ship');
    expect(handOffs.take('Build')).toEqual({ result: 'unknown', askedNext: true });

    // A stop ended the stage before its last command started: nothing could have gone out.
    handOffs.arm('Build', 'ship', handOff);
    expect(handOffs.take('Build')).toBeNull();
  });
});
