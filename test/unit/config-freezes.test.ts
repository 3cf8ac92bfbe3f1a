/** Config-wide freezes in the coordinator's state: kept beside the pipeline's own, and carried on. */
import { describe, expect, it } from 'vitest';
import { definitionSchemas } from '../../src/shared/definition.js';
import { CoordinatorState } from '../../src/workflows/coordinator-state.js';

const AT = '2026-12-01T10:00:00.000Z';
const T = Date.parse(AT);
const definition = definitionSchemas().pipelineDefinition.parse({
  name: 'web',
  freezes: [{ from: '2026-12-01T12:00:00Z', to: '2026-12-01T13:00:00Z', reason: 'pipeline freeze' }],
  stages: [{ name: 'Deploy', actions: [{ name: 'a', type: 'command', run: 'true' }] }],
});
const config = [{ from: '2026-12-01T09:00:00Z', to: '2026-12-01T11:00:00Z', reason: 'company freeze' }];
const shut = (s: CoordinatorState) => s.state().stages[0]!.window;

describe('config-wide freezes in the coordinator', () => {
  it('shut every stage while one lasts, beside the pipeline’s own, and lift when taken away', () => {
    const s = CoordinatorState.create(definition, 'alice', AT);
    s.applyCalendars(T);
    expect(shut(s)).toBeNull();
    const before = s.calendarRevision();
    expect(s.setConfigFreezes(config)).toBe(true);
    expect(s.setConfigFreezes(config)).toBe(false); // the same again changes nothing
    expect(s.calendarRevision()).not.toBe(before);
    expect(s.applyCalendars(T).next).toBe(Date.parse('2026-12-01T11:00:00Z'));
    expect(shut(s)).toEqual({ reason: 'company freeze', opensAt: '2026-12-01T11:00:00.000Z' });
    expect(s.snapshot().configFreezes).toEqual(config);
    expect(s.setConfigFreezes([])).toBe(true);
    s.applyCalendars(T);
    expect(shut(s)).toBeNull();
    expect(s.snapshot().configFreezes).toBeUndefined();
  });

  it('are carried across continue-as-new and recovered by a coordinator started afresh', () => {
    const s = CoordinatorState.create(definition, 'alice', AT);
    s.setConfigFreezes(config);
    const carried = CoordinatorState.restore(JSON.parse(JSON.stringify(s.toJSON())) as ReturnType<typeof s.toJSON>);
    carried.applyCalendars(T);
    expect(shut(carried)).toMatchObject({ reason: 'company freeze' });
    const fresh = CoordinatorState.create(definition, 'alice', AT);
    fresh.recover({ previous: s.snapshot(), highestExecution: 0, running: [] });
    fresh.applyCalendars(T);
    expect(shut(fresh)).toMatchObject({ reason: 'company freeze' });
  });
});
