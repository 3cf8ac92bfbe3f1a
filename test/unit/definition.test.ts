import { describe, expect, it } from 'vitest';
import { definitionSchemas } from '../../src/shared/definition.js';
import { toFieldErrors } from '../../src/shared/validation.js';

/** The example of CONTRACT.md section 2, as written there. */
const contractExample = {
  name: 'web',
  executionMode: 'SUPERSEDED',
  variables: { TARGET: 'staging' },
  rollbackOnFailure: false,
  check: [{ name: 'policy', type: 'command', run: 'test "$TARGET" != frozen' }],
  stages: [
    {
      name: 'Build',
      actions: [
        {
          name: 'compile',
          type: 'command',
          run: 'make build',
          runOrder: 1,
          timeoutSeconds: 3600,
          rollback: 'make clean',
          onError: 'fail',
        },
        { name: 'unit', type: 'command', run: 'make test', runOrder: 1 },
      ],
    },
    {
      name: 'Deploy',
      actions: [
        {
          name: 'go-live',
          type: 'approval',
          runOrder: 1,
          approvers: { users: ['bob'], groups: ['release-managers'] },
          required: 1,
          allowSelfApproval: false,
          timeoutSeconds: 604800,
          message: 'Check the staging URL',
          url: 'https://staging.example.com',
        },
        { name: 'hold', type: 'pause', runOrder: 2, timeoutSeconds: 86400 },
        { name: 'soak', type: 'wait', runOrder: 3, seconds: 30 },
        { name: 'ship', type: 'command', run: './deploy.sh', runOrder: 4, onError: 'trap' },
      ],
    },
  ],
};

const errorsOf = (input: unknown) => {
  const r = definitionSchemas().pipelineDefinition.safeParse(input);
  return r.success ? [] : toFieldErrors(r.error);
};
const pathsOf = (input: unknown) => errorsOf(input).map((e) => e.path);
const withStages = (stages: unknown) => ({ name: 'p', stages });

describe('the pipeline definition schema', () => {
  it('accepts the contract example and fills in defaults', () => {
    const d = definitionSchemas().pipelineDefinition.parse(contractExample);
    expect(d.stages[0]!.actions[1]).toMatchObject({
      runOrder: 1,
      onError: 'fail',
      timeoutSeconds: 3600,
      trapTimeoutSeconds: 86400,
    });
    expect(d.triggers).toEqual([]);
    const minimal = definitionSchemas().pipelineDefinition.parse(
      withStages([{ name: 'S', actions: [{ name: 'a', type: 'wait', seconds: 1 }] }]),
    );
    expect(minimal).toMatchObject({ executionMode: 'SUPERSEDED', variables: {}, rollbackOnFailure: false, check: [] });
  });

  it.each([
    ['Web', 'name'],
    ['-web', 'name'],
    ['w'.repeat(64), 'name'],
  ])('refuses the pipeline name %s', (name, path) => {
    expect(pathsOf({ ...contractExample, name })).toEqual([path]);
  });

  it('refuses bad stage and action names, and duplicates', () => {
    expect(pathsOf(withStages([{ name: 'has space', actions: [{ name: 'a', type: 'wait', seconds: 1 }] }]))).toEqual([
      'stages[0].name',
    ]);
    expect(pathsOf(withStages([{ name: 'S', actions: [{ name: 'a/b', type: 'wait', seconds: 1 }] }]))).toEqual([
      'stages[0].actions[0].name',
    ]);
    const a = { name: 'a', type: 'wait', seconds: 1 };
    expect(pathsOf(withStages([{ name: 'S', actions: [a, a] }]))).toEqual(['stages[0].actions[1].name']);
    expect(
      pathsOf(
        withStages([
          { name: 'S', actions: [a] },
          { name: 'S', actions: [a] },
        ]),
      ),
    ).toEqual(['stages[1].name']);
  });

  it('needs at least one stage and one action per stage', () => {
    expect(pathsOf(withStages([]))).toEqual(['stages']);
    expect(pathsOf(withStages([{ name: 'S', actions: [] }]))).toEqual(['stages[0].actions']);
  });

  it('refuses unknown fields, types and modes with their paths', () => {
    expect(pathsOf({ ...contractExample, executionMode: 'FAST', colour: 'red' }).sort()).toEqual(['', 'executionMode']);
    expect(pathsOf(withStages([{ name: 'S', actions: [{ name: 'a', type: 'teleport' }] }]))).toEqual([
      'stages[0].actions[0].type',
    ]);
    expect(
      pathsOf(withStages([{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'x', onError: 'shrug' }] }])),
    ).toEqual(['stages[0].actions[0].onError']);
    expect(pathsOf(withStages([{ name: 'S', actions: [{ name: 'a', type: 'wait', seconds: -1 }] }]))).toEqual([
      'stages[0].actions[0].seconds',
    ]);
  });

  it('allows only commands in check', () => {
    for (const step of [
      { name: 'gate', type: 'approval', approvers: { users: ['bob'] } },
      { name: 'hold', type: 'pause' },
    ]) {
      const errors = errorsOf({ ...contractExample, check: [step] });
      expect(errors).toEqual([{ path: 'check[0].type', message: expect.stringMatching(/only "command"/) }]);
    }
  });

  it('refuses variable names a shell cannot hold', () => {
    expect(pathsOf({ ...contractExample, variables: { 'BAD-NAME': 'x' } })).toEqual(['variables.BAD-NAME']);
  });
});

describe('schedule triggers', () => {
  const withCron = (cron: string) => ({ ...contractExample, triggers: [{ type: 'schedule', cron }] });
  it('accept a five-field cron', () => {
    expect(pathsOf(withCron('0 3 * * 1-5'))).toEqual([]);
  });
  it.each(['0 3 * *', '61 * * * *', 'every day', '* * * * * *'])('refuse %s with its path', (cron) => {
    expect(pathsOf(withCron(cron))).toEqual(['triggers[0].cron']);
  });
});

describe('stage concurrency', () => {
  const withConcurrency = (concurrency: unknown, executionMode = 'QUEUED') => ({
    name: 'web',
    executionMode,
    stages: [{ name: 'Deploy', concurrency, actions: [{ name: 'a', type: 'command', run: 'true' }] }],
  });

  it('takes a whole number of slots on a QUEUED or SUPERSEDED stage, and is absent by default', () => {
    expect(pathsOf(withConcurrency(2))).toEqual([]);
    expect(pathsOf(withConcurrency(100, 'SUPERSEDED'))).toEqual([]);
    const plain = definitionSchemas().pipelineDefinition.parse({
      ...withConcurrency(1),
      stages: [contractExample.stages[0]],
    });
    expect(plain.stages[0]).not.toHaveProperty('concurrency');
  });

  it.each([0, 101, 1.5, '2'])('refuses %s with its path', (n) => {
    expect(pathsOf(withConcurrency(n))).toEqual(['stages[0].concurrency']);
  });

  it('refuses it on a PARALLEL pipeline, whose stages have no lock', () => {
    expect(errorsOf(withConcurrency(2, 'PARALLEL'))).toEqual([
      { path: 'stages[0].concurrency', message: expect.stringMatching(/PARALLEL stages have no lock/) },
    ]);
  });
});

describe('deployment windows and freezes', () => {
  const withWindow = (window: unknown, freezes?: unknown) => ({
    name: 'web',
    stages: [{ name: 'Deploy', windows: [window], actions: [{ name: 'a', type: 'command', run: 'true' }] }],
    ...(freezes ? { freezes } : {}),
  });
  const good = {
    days: ['Mon', 'Fri'],
    from: '09:00',
    to: '16:00',
    timeZone: 'Europe/Madrid',
    holidays: ['2026-12-08'],
  };

  it('take days, local hours, an IANA time zone and holidays; freezes take instants and a reason', () => {
    const freeze = { from: '2026-12-20T00:00:00+01:00', to: '2027-01-07T00:00:00Z', reason: 'year end' };
    expect(pathsOf(withWindow(good, [freeze]))).toEqual([]);
    expect(pathsOf(withWindow({ from: '00:00', to: '24:00', timeZone: 'UTC' }))).toEqual([]);
  });

  it('refuse what they cannot read, with the path', () => {
    expect(pathsOf(withWindow({ ...good, timeZone: 'Mars/Olympus' }))).toEqual(['stages[0].windows[0].timeZone']);
    expect(pathsOf(withWindow({ ...good, from: '9:00' }))).toEqual(['stages[0].windows[0].from']);
    expect(pathsOf(withWindow({ ...good, from: '16:00', to: '09:00' }))).toEqual(['stages[0].windows[0].to']);
    expect(pathsOf(withWindow({ ...good, days: ['Monday'] }))).toEqual(['stages[0].windows[0].days[0]']);
    expect(pathsOf(withWindow({ ...good, holidays: ['8/12/2026'] }))).toEqual(['stages[0].windows[0].holidays[0]']);
    const backwards = { from: '2027-01-07T00:00:00Z', to: '2026-12-20T00:00:00Z', reason: 'x' };
    expect(pathsOf(withWindow(good, [backwards]))).toEqual(['freezes[0].to']);
    expect(pathsOf(withWindow(good, [{ from: 'tomorrow', to: '2026-12-20T00:00:00Z', reason: 'x' }]))).toEqual([
      'freezes[0].from',
    ]);
  });
});
