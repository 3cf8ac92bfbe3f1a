/**
 * Commands a test controls: an action that runs until the test opens its gate, and timestamps written by
 * the commands themselves (the clock of the process that really ran).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export class Gates {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'paso-gates-'));

  /** A script that records `<execution> <label> start|end <ms>` and, if `gated`, waits for its gate between. */
  script(label: string, { gated = false, sleep = 0 } = {}): string {
    const log = path.join(this.dir, 'events');
    const stamp = (what: string) => `echo "$PASO_EXECUTION_ID ${label} ${what} $(date +%s%3N)" >> ${log}`;
    const wait = gated ? `until [ -e ${this.dir}/open-$PASO_EXECUTION_ID-${label} ]; do sleep 0.05; done; ` : '';
    const nap = sleep > 0 ? `sleep ${sleep}; ` : '';
    return `${stamp('start')}; ${wait}${nap}${stamp('end')}`;
  }

  open(executionId: string, label: string): void {
    writeFileSync(path.join(this.dir, `open-${executionId}-${label}`), '');
  }

  /** Every recorded event, in file order. */
  events(): { executionId: string; label: string; what: 'start' | 'end'; at: number }[] {
    const file = path.join(this.dir, 'events');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const [executionId, label, what, at] = line.split(' ');
        return { executionId: executionId!, label: label!, what: what as 'start' | 'end', at: Number(at) };
      });
  }

  started(executionId: string, label: string): boolean {
    return this.events().some((e) => e.executionId === executionId && e.label === label && e.what === 'start');
  }

  /** [start, end] of each execution's run of `label`, in order of start. */
  intervals(label: string): { executionId: string; start: number; end: number }[] {
    const events = this.events().filter((e) => e.label === label);
    const starts = events.filter((e) => e.what === 'start');
    return starts
      .map((s) => ({
        executionId: s.executionId,
        start: s.at,
        end: events.find((e) => e.executionId === s.executionId && e.what === 'end')?.at ?? Infinity,
      }))
      .sort((a, b) => a.start - b.start);
  }
}

/** No two intervals overlap: each starts at or after the previous one's end. */
export function disjoint(intervals: { start: number; end: number }[]): boolean {
  return intervals.every((x, i) => i === 0 || x.start >= intervals[i - 1]!.end);
}

/** Build then Deploy, one of them (`held`: Deploy unless told) held open by the test until it opens the gate. */
export function twoStages(name: string, gates: Gates, mode: string, held: 'build' | 'deploy' = 'deploy') {
  return {
    name,
    executionMode: mode,
    stages: [
      {
        name: 'Build',
        actions: [{ name: 'compile', type: 'command', run: gates.script('build', { gated: held === 'build' }) }],
      },
      {
        name: 'Deploy',
        actions: [{ name: 'ship', type: 'command', run: gates.script('deploy', { gated: held === 'deploy' }) }],
      },
    ],
  };
}
