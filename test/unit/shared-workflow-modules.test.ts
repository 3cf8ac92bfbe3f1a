/**
 * The modules the workflow threads share (src/workflows/preload.ts) still work once frozen. The SDK
 * deep-freezes what a shared module exports after the preload; a zod feature that writes to something
 * exported (zod's own regular expressions, say) would then fail inside a workflow task, retried forever.
 * This freezes the same modules the same way, in a process of its own, after the same warm-up, and parses a
 * good payload of every kind of message and some bad ones.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MESSAGE_NAMES } from '../../src/shared/message-schemas.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = (file: string) => JSON.stringify(path.join(root, 'dist', 'src', file));

/** Runs in a fresh node: the freeze must not reach the modules of the test process. */
const script = `
import * as zod from 'zod';
import * as cronParser from 'cron-parser';
import * as luxon from 'luxon';
import * as definition from ${dist('shared/definition.js')};
import * as namedLocks from ${dist('shared/named-locks.js')};
import * as schemas from ${dist('shared/message-schemas.js')};
import * as samples from ${dist('shared/message-samples.js')};
await import(${dist('workflows/preload.js')});

// As @temporalio/worker's reusable-vm.ts freezes the preloaded modules' exports.
function deepFreeze(object, visited = new WeakSet()) {
  if (object == null || visited.has(object) || (typeof object !== 'object' && typeof object !== 'function')) return object;
  visited.add(object);
  if (Object.isFrozen(object)) return object;
  if (typeof object === 'object') {
    for (const name of [...Object.getOwnPropertyNames(object), ...Object.getOwnPropertySymbols(object)]) {
      const value = object[name];
      if (value && (typeof value === 'object' || typeof value === 'function')) {
        try { deepFreeze(value, visited); } catch {}
      }
    }
  }
  return Object.freeze(object);
}
for (const module of [zod, cronParser, luxon, definition, namedLocks, schemas, samples]) {
  for (const value of Object.values(module)) {
    try { deepFreeze(value); } catch {} // (a module namespace inside, such as z.coerce, cannot be frozen itself)
  }
}

const check = (name, payload) => {
  try {
    const result = schemas.checkMessage(name, payload);
    return result.ok ? 'ok' : result.problems;
  } catch (err) {
    return 'threw: ' + err.message;
  }
};
const good = Object.fromEntries(schemas.MESSAGE_NAMES.map((name) => [name, check(name, samples.MESSAGE_SAMPLES[name])]));
const bad = {
  approve: check('approve', { ...samples.MESSAGE_SAMPLES.approve, decision: 'maybe', by: '' }),
  acquireLocks: check('acquireLocks', { ...samples.MESSAGE_SAMPLES.acquireLocks, createdAt: 'yesterday' }),
  definition: check('putDefinition', {
    by: 'bob',
    definition: {
      ...samples.SAMPLE_DEFINITION,
      name: 'Not A Name',
      triggers: [{ type: 'schedule', cron: '61 * * * *' }],
      stages: [{ ...samples.SAMPLE_DEFINITION.stages[0], windows: [{ from: '9', to: '08:00', timeZone: 'Nowhere', holidays: ['2026-02-30'] }] }],
    },
  }),
};
let isoDate;
try {
  isoDate = zod.z.iso.date().safeParse('2026-12-25').success ? 'parsed' : 'refused';
} catch (err) {
  isoDate = 'threw: ' + err.message;
}
console.log(JSON.stringify({ good, bad, isoDate }));
`;

describe('the modules shared by the workflow threads, frozen as the SDK freezes them', () => {
  const out = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }),
  ) as { good: Record<string, string>; bad: Record<string, string>; isoDate: string };

  it('parse a good payload of every kind of message, a cron trigger and a holiday included', () => {
    expect(Object.keys(out.good).sort()).toEqual([...MESSAGE_NAMES].sort());
    for (const name of MESSAGE_NAMES) expect(`${name}: ${out.good[name]}`).toBe(`${name}: ok`);
  });

  it('refuse bad payloads with the path of each problem', () => {
    expect(out.bad.approve).toMatch(/^invalid approve payload: /);
    expect(out.bad.approve).toContain('decision: Invalid option');
    expect(out.bad.approve).toContain('by: Too small');
    expect(out.bad.acquireLocks).toMatch(/^invalid acquireLocks payload: createdAt: /);
    for (const path of [
      'definition.name',
      'definition.triggers[0].cron: not a valid cron expression',
      'definition.stages[0].windows[0].from',
      'definition.stages[0].windows[0].timeZone',
      'definition.stages[0].windows[0].holidays[0]: a date, YYYY-MM-DD',
    ]) {
      expect(out.bad.definition).toContain(path);
    }
  });

  it("really are frozen: zod's own date format, which resets an exported pattern, fails (why holidays check dates themselves)", () => {
    expect(out.isoDate).toMatch(/^threw: .*read only property 'lastIndex'/);
  });
});
