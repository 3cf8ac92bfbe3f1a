/**
 * Deployment windows, holidays and change freezes as a pure calendar: whether a stage may be entered at an
 * instant, and when that next changes (so the coordinator sleeps on one durable timer instead of polling).
 * Wall-clock times are read in each window's IANA time zone, so windows follow daylight-saving changes:
 * "09:00 Europe/Madrid" is 08:00 UTC in winter and 07:00 UTC in summer. Unit-tested at the DST boundaries.
 */

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When a stage may be entered: on `days` (all if absent), from `from` to `to` ("HH:MM", local time). */
export interface DeploymentWindow {
  days?: Weekday[];
  from: string;
  to: string;
  timeZone: string;
  /** Local dates ("YYYY-MM-DD") on which the window stays shut. */
  holidays?: string[];
}

/** A change freeze: nothing enters from `from` to `to` (ISO instants). */
export interface Freeze {
  from: string;
  to: string;
  reason: string;
}

export interface Calendar {
  /** No windows: any time outside a freeze. */
  windows: DeploymentWindow[];
  freezes: Freeze[];
}

/** How far ahead the next opening is looked for: beyond it, a calendar counts as shut for good. */
const HORIZON_DAYS = 400;
const DAY_MS = 86_400_000;

interface Local {
  date: string;
  weekday: Weekday;
  minutes: number;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock date, weekday and minute of the day of instant `t` in `timeZone`. */
export function localTime(t: number, timeZone: string): Local {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
    });
    formats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  return {
    date: `${p.year}-${p.month}-${p.day}`,
    weekday: p.weekday as Weekday,
    minutes: Number(p.hour) * 60 + Number(p.minute),
  };
}

/** Whether `timeZone` is one the runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    localTime(0, timeZone);
    return true;
  } catch {
    return false;
  }
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * The instant at which the wall clock in `timeZone` shows `minutes` past midnight of local `date`. A time
 * that does not exist that day (skipped by a spring-forward change) moves forward by the length of the gap
 * (02:30 becomes 03:30, as JavaScript's Temporal does by default); one that exists twice (fall back) is the
 * first of the two.
 */
export function instantOf(date: string, minutes: number, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) + minutes * 60_000;
  const offset = (t: number) => {
    const l = localTime(t, timeZone);
    const [ly, lm, ld] = l.date.split('-').map(Number) as [number, number, number];
    return Date.UTC(ly, lm - 1, ld) + l.minutes * 60_000 - Math.floor(t / 60_000) * 60_000;
  };
  // The earlier of the two offsets around the time wins, so a repeated hour maps to its first occurrence.
  const candidates = [wall - offset(wall - DAY_MS / 2), wall - offset(wall + DAY_MS / 2)];
  const exact = candidates.filter((t) => t + offset(t) === wall).sort((a, b) => a - b);
  if (exact.length > 0) return exact[0]!;
  // In a gap: read with the offset in force before it.
  return Math.max(...candidates);
}

function inWindow(w: DeploymentWindow, t: number): boolean {
  const l = localTime(t, w.timeZone);
  if (w.days && !w.days.includes(l.weekday)) return false;
  if (w.holidays?.includes(l.date)) return false;
  return l.minutes >= minutesOf(w.from) && l.minutes < minutesOf(w.to);
}

/** The freeze in force at `t`, if any. */
export function freezeAt(cal: Calendar, t: number): Freeze | null {
  return cal.freezes.find((f) => Date.parse(f.from) <= t && t < Date.parse(f.to)) ?? null;
}

/** Whether the stage may be entered at `t`: inside a window (or there are none) and outside every freeze. */
export function isOpen(cal: Calendar, t: number): boolean {
  if (freezeAt(cal, t)) return false;
  return cal.windows.length === 0 || cal.windows.some((w) => inWindow(w, t));
}

/** Every instant after `t` at which the calendar may change within `days` days, in order. */
function boundaries(cal: Calendar, t: number, days: number): number[] {
  const out = new Set<number>();
  for (const f of cal.freezes) for (const b of [Date.parse(f.from), Date.parse(f.to)]) if (b > t) out.add(b);
  for (const w of cal.windows) {
    for (let day = -1; day <= days; day++) {
      const date = localTime(t + day * DAY_MS, w.timeZone).date;
      for (const hhmm of [w.from, w.to]) {
        const b = instantOf(date, minutesOf(hhmm), w.timeZone);
        if (b > t) out.add(b);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** The next instant after `t` at which the calendar opens or shuts; null if it never changes again. */
export function nextChange(cal: Calendar, t: number): number | null {
  const open = isOpen(cal, t);
  // Most calendars change within the week: look there first, then as far as the horizon.
  for (const days of [8, HORIZON_DAYS]) {
    const limit = t + (days - 1) * DAY_MS;
    const change = boundaries(cal, t, days).find((b) => isOpen(cal, b) !== open);
    if (change !== undefined && (change <= limit || days === HORIZON_DAYS)) return change;
  }
  return null;
}

/** When the stage may next be entered: `t` itself if open now, null if never within the horizon. */
export function opensAt(cal: Calendar, t: number): number | null {
  return isOpen(cal, t) ? t : nextChange(cal, t);
}
