import { describe, expect, it } from 'vitest';
import { stopBody } from '../../src/api/schemas.js';
import { timeline } from '../../src/api/timeline.js';
import type { ExecutionView } from '../../src/shared/execution-view.js';

const AT = '2026-12-01T10:00:00.000Z';
const view = (stop: ExecutionView['stop']) =>
  ({
    trigger: { type: 'manual', by: 'bob', at: AT },
    stages: [],
    stop,
    workspaces: [],
    channels: [],
    talkback: [],
    rollback: null,
    endedAt: null,
  }) as unknown as ExecutionView;

describe('the stop request', () => {
  it('takes abandonAfterSeconds with stop and wait', () => {
    expect(stopBody.parse({ abandon: false, abandonAfterSeconds: 600 })).toEqual({
      abandon: false,
      abandonAfterSeconds: 600,
    });
    expect(stopBody.parse({ abandonAfterSeconds: 1 })).toMatchObject({ abandon: false });
  });

  it('refuses it with stop and abandon, and anything but a whole number of seconds from 1 to 7 days', () => {
    for (const body of [
      { abandon: true, abandonAfterSeconds: 5 },
      { abandonAfterSeconds: 0 },
      { abandonAfterSeconds: 2.5 },
      { abandonAfterSeconds: 7 * 86_400 + 1 },
      { abandonAfterSeconds: '10' },
    ]) {
      const r = stopBody.safeParse(body);
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => i.path)).toEqual([['abandonAfterSeconds']]);
    }
  });
});

describe('the timeline of an escalating stop', () => {
  const stop = { by: 'bob', reason: 'hangs', at: AT, abandonAt: '2026-12-01T10:10:00.000Z' };

  it('shows the stop and wait, and the abandon when its time came', () => {
    const entries = timeline(view({ ...stop, abandon: true }), [], () => '');
    expect(entries.filter((e) => e.type.startsWith('stop-'))).toEqual([
      { at: AT, type: 'stop-wait', by: 'bob', text: 'hangs' },
      { at: stop.abandonAt, type: 'stop-abandon', text: 'abandonAfterSeconds passed' },
    ]);
  });

  it('shows only the stop and wait while the time has not come', () => {
    const entries = timeline(view({ ...stop, abandon: false }), [], () => '');
    expect(entries.filter((e) => e.type.startsWith('stop-')).map((e) => e.type)).toEqual(['stop-wait']);
  });
});
