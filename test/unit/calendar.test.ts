import { describe, expect, it } from 'vitest';
import type { Calendar } from '../../src/workflows/calendar.js';
import { instantOf, isOpen, isTimeZone, localTime, nextChange, opensAt } from '../../src/workflows/calendar.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const madrid: Calendar = {
  windows: [{ days: ['Mon', 'Tue', 'Wed', 'Thu'], from: '09:00', to: '16:00', timeZone: 'Europe/Madrid' }],
  freezes: [],
};

describe('deployment windows', () => {
  it('are open inside their hours on their days only, in their own time zone', () => {
    // Tuesday 1 December 2026: Madrid is UTC+1.
    expect(isOpen(madrid, t('2026-12-01T07:59:00Z'))).toBe(false);
    expect(isOpen(madrid, t('2026-12-01T08:00:00Z'))).toBe(true);
    expect(isOpen(madrid, t('2026-12-01T14:59:00Z'))).toBe(true);
    expect(isOpen(madrid, t('2026-12-01T15:00:00Z'))).toBe(false);
    // Friday 4 December, 10:00 in Madrid: not a window day.
    expect(isOpen(madrid, t('2026-12-04T09:00:00Z'))).toBe(false);
  });

  it('say when they open next: the same day, or after the weekend', () => {
    expect(iso(opensAt(madrid, t('2026-12-01T06:00:00Z')))).toBe('2026-12-01T08:00:00.000Z');
    expect(iso(opensAt(madrid, t('2026-12-01T10:00:00Z')))).toBe('2026-12-01T10:00:00.000Z');
    // Thursday 16:00 → Monday 09:00.
    expect(iso(opensAt(madrid, t('2026-12-03T15:00:00Z')))).toBe('2026-12-07T08:00:00.000Z');
    expect(iso(nextChange(madrid, t('2026-12-01T10:00:00Z')))).toBe('2026-12-01T15:00:00.000Z');
  });

  it('follow daylight saving: 09:00 in Madrid is 08:00 UTC in winter and 07:00 UTC in summer', () => {
    // Spring forward on Sunday 29 March 2026: Monday 30 opens at 07:00 UTC, Thursday 26 at 08:00 UTC.
    expect(iso(opensAt(madrid, t('2026-03-26T00:00:00Z')))).toBe('2026-03-26T08:00:00.000Z');
    expect(iso(opensAt(madrid, t('2026-03-27T00:00:00Z')))).toBe('2026-03-30T07:00:00.000Z');
    // Fall back on Sunday 25 October 2026: Thursday 22 opens at 07:00 UTC, Monday 26 at 08:00 UTC.
    expect(iso(opensAt(madrid, t('2026-10-22T00:00:00Z')))).toBe('2026-10-22T07:00:00.000Z');
    expect(iso(opensAt(madrid, t('2026-10-23T00:00:00Z')))).toBe('2026-10-26T08:00:00.000Z');
  });

  it('keep their hours across the DST night itself, and in the other hemisphere', () => {
    const night: Calendar = { windows: [{ from: '01:00', to: '05:00', timeZone: 'America/New_York' }], freezes: [] };
    // 8 March 2026, New York springs forward at 02:00 (EST, UTC-5) to 03:00 (EDT, UTC-4): the window is 3 h long.
    expect(iso(opensAt(night, t('2026-03-08T00:00:00Z')))).toBe('2026-03-08T06:00:00.000Z');
    expect(iso(nextChange(night, t('2026-03-08T06:00:00Z')))).toBe('2026-03-08T09:00:00.000Z');
    // 1 November 2026 falls back at 02:00 EDT to 01:00 EST: the window opens at the first 01:00 and is 5 h long.
    expect(iso(opensAt(night, t('2026-11-01T00:00:00Z')))).toBe('2026-11-01T05:00:00.000Z');
    expect(iso(nextChange(night, t('2026-11-01T05:00:00Z')))).toBe('2026-11-01T10:00:00.000Z');
    const sydney: Calendar = { windows: [{ from: '09:00', to: '17:00', timeZone: 'Australia/Sydney' }], freezes: [] };
    // Sydney leaves daylight saving on 5 April 2026 (UTC+11 → UTC+10).
    expect(iso(opensAt(sydney, t('2026-04-03T12:00:00Z')))).toBe('2026-04-03T22:00:00.000Z');
    expect(iso(opensAt(sydney, t('2026-04-05T12:00:00Z')))).toBe('2026-04-05T23:00:00.000Z');
  });

  it('read a time skipped by spring forward as the same time after the gap, a repeated one as the first', () => {
    expect(iso(instantOf('2026-03-29', 150, 'Europe/Madrid'))).toBe('2026-03-29T01:30:00.000Z');
    expect(iso(instantOf('2026-10-25', 150, 'Europe/Madrid'))).toBe('2026-10-25T00:30:00.000Z');
    expect(localTime(t('2026-10-25T01:30:00Z'), 'Europe/Madrid')).toEqual({
      date: '2026-10-25',
      weekday: 'Sun',
      minutes: 150,
    });
  });

  it('stay shut on their holidays (local dates)', () => {
    const cal: Calendar = {
      windows: [{ ...madrid.windows[0]!, holidays: ['2026-12-08'] }],
      freezes: [],
    };
    // Tuesday 8 December is a holiday: Monday 7 16:00 → Wednesday 9 09:00.
    expect(isOpen(cal, t('2026-12-08T10:00:00Z'))).toBe(false);
    expect(iso(opensAt(cal, t('2026-12-07T16:00:00Z')))).toBe('2026-12-09T08:00:00.000Z');
  });

  it('of several, open when any is', () => {
    const cal: Calendar = {
      windows: [
        { days: ['Mon'], from: '09:00', to: '10:00', timeZone: 'Europe/Madrid' },
        { days: ['Mon'], from: '08:30', to: '11:00', timeZone: 'UTC' },
      ],
      freezes: [],
    };
    expect(iso(nextChange(cal, t('2026-11-30T08:00:00Z')))).toBe('2026-11-30T11:00:00.000Z');
  });

  it('knows which time zones exist', () => {
    expect(isTimeZone('Europe/Madrid')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});

describe('change freezes', () => {
  const freeze = { from: '2026-12-20T00:00:00Z', to: '2027-01-07T00:00:00Z', reason: 'holidays' };

  it('shut the stage whatever the windows, and it opens at the first window after them', () => {
    const cal: Calendar = { ...madrid, freezes: [freeze] };
    expect(isOpen(cal, t('2026-12-21T10:00:00Z'))).toBe(false);
    // The freeze ends on Thursday 7 January at 01:00 in Madrid: the window opens at 09:00.
    expect(iso(opensAt(cal, t('2026-12-21T10:00:00Z')))).toBe('2027-01-07T08:00:00.000Z');
  });

  it('with no windows, shut only while they last', () => {
    const cal: Calendar = { windows: [], freezes: [freeze] };
    expect(isOpen(cal, t('2026-12-19T23:59:00Z'))).toBe(true);
    expect(iso(nextChange(cal, t('2026-12-19T23:59:00Z')))).toBe('2026-12-20T00:00:00.000Z');
    expect(iso(opensAt(cal, t('2026-12-25T00:00:00Z')))).toBe('2027-01-07T00:00:00.000Z');
    expect(nextChange(cal, t('2027-02-01T00:00:00Z'))).toBeNull();
  });
});
