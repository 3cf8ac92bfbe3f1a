/**
 * How `paso` prints: tables and colours for people on a terminal, JSON for scripts (`--json`), errors on
 * stderr. Colour only when stdout is a terminal and neither `NO_COLOR` nor `--no-color` says otherwise.
 */
import type { Writable } from 'node:stream';
import type { CliError } from './errors.js';

const ESC = '\u001b';
/** Colour codes, which take no room on the screen. */
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/** SGR codes of the few colours used. */
const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export interface OutputOptions {
  json: boolean;
  color: boolean;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable;
}

export class Output {
  readonly json: boolean;
  private readonly color: boolean;
  private readonly stdout: Writable;
  private readonly stderr: Writable;

  constructor({ json, color, stdout = process.stdout, stderr = process.stderr }: OutputOptions) {
    this.json = json;
    this.stdout = stdout;
    this.stderr = stderr;
    this.color = color;
  }

  /** Whether colours are wanted: a terminal, and no `NO_COLOR` (https://no-color.org). */
  static wantsColour(flag: boolean, env: NodeJS.ProcessEnv, stream: { isTTY?: boolean } = process.stdout): boolean {
    return flag && !env.NO_COLOR && stream.isTTY === true;
  }

  paint(colour: Colour, text: string): string {
    return this.color ? `${ESC}[${CODES[colour]}m${text}${ESC}[0m` : text;
  }

  /** A status in the colour people expect of it. */
  status(status: string | null | undefined): string {
    if (!status) return this.paint('dim', '-');
    return this.paint(STATUS_COLOURS[status] ?? 'cyan', status);
  }

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** Progress and notes: on stderr when stdout carries JSON, so a script reads clean JSON. */
  note(text: string): void {
    (this.json ? this.stderr : this.stdout).write(`${text}\n`);
  }

  writeRaw(chunk: Uint8Array | string): Promise<void> {
    return new Promise((resolve) => (this.stdout.write(chunk) ? resolve() : this.stdout.once('drain', resolve)));
  }

  printJson(value: unknown): void {
    this.line(JSON.stringify(value, null, 2));
  }

  /** A table with a header row; cells may carry colour codes, which do not count in the width. */
  table(header: string[], rows: string[][]): void {
    const width = (s: string) => s.replace(ANSI, '').length;
    const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
    const render = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - width(c))))
        .join('  ')
        .trimEnd();
    this.line(this.paint('bold', render(header)));
    for (const row of rows) this.line(render(row));
  }

  error(err: CliError): void {
    this.stderr.write(`${this.paint('red', 'paso:')} ${err.message}\n`);
    for (const d of err.details) this.stderr.write(`  ${d}\n`);
  }
}

const STATUS_COLOURS: Record<string, Colour> = {
  Succeeded: 'green',
  Failed: 'red',
  Abandoned: 'red',
  Cancelled: 'red',
  Stopped: 'yellow',
  Stopping: 'yellow',
  Superseded: 'magenta',
  Skipped: 'dim',
  InProgress: 'blue',
  waiting: 'yellow',
};

/** A time as people read it in a log: the local clock, to the second. */
export function clock(iso: string | null | undefined, now = new Date()): string {
  const d = iso ? new Date(iso) : now;
  return d.toTimeString().slice(0, 8);
}

/** A duration in the largest sensible unit. */
export function duration(fromIso: string | null, toIso: string | null): string {
  if (!fromIso) return '';
  const ms = (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m}m${Math.floor((ms % 60_000) / 1000)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
