/** The errors `paso` reports, each with the exit code it ends with. */
import { ExitCode } from './exit-codes.js';

/** One problem in an input, as the gateway's problem+json lists it. */
export interface FieldError {
  path: string;
  message: string;
}

/** A problem+json answer (RFC 9457) as the gateway sends it, with Paso's extensions. */
export interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  /** CHECK's results, on a trigger it refused (422). */
  check?: { name: string; status: string; output: string }[];
}

/** Anything `paso` stops on: a message for people and the code to exit with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Error,
    /** More lines printed under the message (field paths, check outputs, hints). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Bad arguments, options or files: nothing was sent. */
export class UsageError extends CliError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, ExitCode.Usage, details);
    this.name = 'UsageError';
  }
}

/** No connection to the gateway (refused, unknown host, timed out). */
export class UnreachableError extends CliError {
  constructor(url: string, reason: string) {
    super(`cannot reach the Paso gateway at ${url}: ${reason}`, ExitCode.Unreachable, [
      'Is Paso running there? Check --url, PASO_URL or `paso login`.',
    ]);
    this.name = 'UnreachableError';
  }
}

/** The gateway answered with an error status. */
export class ApiError extends CliError {
  constructor(readonly problem: Problem) {
    super(`${problem.title} (${problem.status}): ${problem.detail}`, exitCodeOf(problem), detailsOf(problem));
    this.name = 'ApiError';
  }
}

function exitCodeOf(problem: Problem): ExitCode {
  if (problem.status === 401) return ExitCode.Unauthorized;
  if (problem.status === 403) return ExitCode.Forbidden;
  if (problem.status === 503) return ExitCode.Unreachable;
  if (problem.status === 422 && problem.check) return ExitCode.RefusedByCheck;
  return ExitCode.Error;
}

function detailsOf(problem: Problem): string[] {
  const lines = (problem.errors ?? []).map((e) => `${e.path || '(body)'}: ${e.message}`);
  for (const c of problem.check ?? []) {
    lines.push(`check ${c.name}: ${c.status}`);
    for (const line of c.output.trimEnd().split('\n').filter(Boolean)) lines.push(`  ${line}`);
  }
  if (problem.status === 401) lines.push('Pass --token, set PASO_TOKEN, or run `paso login`.');
  return lines;
}
