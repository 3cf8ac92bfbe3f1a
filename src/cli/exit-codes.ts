/**
 * The exit codes of `paso`: one table, printed by `paso --help` and documented in the README, so that a CI
 * job can tell an execution that failed from a gateway it could not reach.
 */
import type { ExecutionStatus } from '../shared/execution-view.js';

export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  Unauthorized: 3,
  Forbidden: 4,
  Unreachable: 5,
  WaitTimeout: 6,
  Failed: 10,
  Stopped: 11,
  Superseded: 12,
  Cancelled: 13,
  RefusedByCheck: 14,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each code means, in the order `--help` lists them. */
export const EXIT_CODE_TABLE: readonly [ExitCode, string][] = [
  [ExitCode.Ok, 'success; with --wait: the execution Succeeded'],
  [ExitCode.Error, 'the gateway refused the request (invalid input, not found, conflict, …) or another error'],
  [ExitCode.Usage, 'usage error: unknown command or option, missing argument, unreadable file'],
  [ExitCode.Unauthorized, 'no token, or the gateway does not know it (401)'],
  [ExitCode.Forbidden, 'the token is valid but its user may not do this (403)'],
  [ExitCode.Unreachable, 'the gateway cannot be reached, or answers 503 (Temporal or a worker is down)'],
  [ExitCode.WaitTimeout, '--wait gave up after --timeout; the execution goes on'],
  [ExitCode.Failed, 'with --wait: the execution Failed'],
  [ExitCode.Stopped, 'with --wait: the execution was Stopped'],
  [ExitCode.Superseded, 'with --wait: the execution was Superseded by a newer one'],
  [ExitCode.Cancelled, 'with --wait: the execution was Cancelled (from Temporal)'],
  [ExitCode.RefusedByCheck, 'trigger: the pipeline CHECK refused it; no execution was created (422)'],
];

/** The statuses an execution does not leave by itself, and the code `--wait` exits with for each. */
export const FINAL_STATUS_CODES: Partial<Record<ExecutionStatus, ExitCode>> = {
  Succeeded: ExitCode.Ok,
  Failed: ExitCode.Failed,
  Stopped: ExitCode.Stopped,
  Superseded: ExitCode.Superseded,
  Cancelled: ExitCode.Cancelled,
};

/** The table as `--help` shows it. */
export function exitCodeHelp(): string {
  return ['Exit codes:', ...EXIT_CODE_TABLE.map(([code, text]) => `  ${String(code).padStart(2)}  ${text}`)].join('\n');
}
