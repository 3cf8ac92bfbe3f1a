import { describe, expect, it } from 'vitest';
import { executionIdOf, parseExecutionId } from '../../src/shared/execution.js';
import { runOrderGroups } from '../../src/workflows/execution-state.js';

describe('execution ids', () => {
  it('split at the last hyphen, so two pipelines never share one', () => {
    expect(executionIdOf('web', 42)).toBe('web-42');
    expect(executionIdOf('web-4', 2)).toBe('web-4-2');
    expect(parseExecutionId('web-42')).toEqual({ pipeline: 'web', n: 42 });
    expect(parseExecutionId('web-4-2')).toEqual({ pipeline: 'web-4', n: 2 });
    expect(parseExecutionId('web')).toBeNull();
    expect(parseExecutionId('web-04')).toBeNull();
    expect(parseExecutionId('Web-1')).toBeNull();
  });
});

describe('runOrder groups', () => {
  it('group actions by runOrder, ascending, keeping definition order within a group', () => {
    const a = (name: string, runOrder: number) => ({ name, runOrder });
    expect(runOrderGroups([a('x', 3), a('y', 1), a('z', 3), a('w', 2)]).map((g) => g.map((x) => x.name))).toEqual([
      ['y'],
      ['w'],
      ['x', 'z'],
    ]);
  });
});
