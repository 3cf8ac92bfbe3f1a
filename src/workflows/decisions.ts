/**
 * People's decisions on an execution's manual steps, as signals (for `temporal workflow signal` and the UI:
 * a decision that is not allowed is ignored) and as Updates (for the gateway: refused with 403, 404 or 409
 * by their validators before anything changes). Both go through the same {@link ManualWaits} checks.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { ApprovalDecision, ResumeDecision, TrapDecision } from '../shared/messages.js';
import {
  approveSignal,
  decideApprovalUpdate,
  decideResumeUpdate,
  decideTrapUpdate,
  ErrorTypes,
  resumeSignal,
  trapSignal,
} from '../shared/messages.js';
import type { ExecutionState } from './execution-state.js';
import { setCheckedSignalHandler, setCheckedUpdateHandler } from './guard.js';
import type { ManualWaits } from './manual-steps.js';
import { DecisionRefused } from './manual-steps.js';

const ERROR_TYPE = {
  forbidden: ErrorTypes.Forbidden,
  'not-waiting': ErrorTypes.WrongState,
  unknown: ErrorTypes.NotFound,
};

/** Runs a check, turning a refusal into the failure the gateway maps to an HTTP status. */
function refuseWith(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DecisionRefused) throw ApplicationFailure.nonRetryable(err.message, ERROR_TYPE[err.reason]);
    throw err;
  }
}

/** Applies a signalled decision if it is allowed; one that is not is dropped, as nobody waits for an answer. */
function ignoreRefusal(apply: () => void): void {
  try {
    apply();
  } catch (err) {
    if (!(err instanceof DecisionRefused)) throw err;
  }
}

export function handleDecisions(state: ExecutionState, manual: ManualWaits, now: () => string): void {
  const approve = (d: ApprovalDecision) => {
    manual.approve(d);
    state.recordApproval(d.stage, d.action, { by: d.by, decision: d.decision, comment: d.comment ?? '', at: now() });
  };
  const resume = (d: ResumeDecision) => {
    manual.resume(d);
    state.recordDecision(d.stage, d.action, { by: d.by, decision: 'resume', comment: d.comment ?? '', at: now() });
  };
  const decideTrap = (d: TrapDecision) => {
    manual.decideTrap(d);
    state.recordDecision(d.stage, d.action, { by: d.by, decision: d.decision, comment: d.comment ?? '', at: now() });
  };

  setCheckedSignalHandler(approveSignal, 'approve', (d) => ignoreRefusal(() => approve(d)));
  setCheckedSignalHandler(resumeSignal, 'resume', (d) => ignoreRefusal(() => resume(d)));
  setCheckedSignalHandler(trapSignal, 'trap', (d) => ignoreRefusal(() => decideTrap(d)));
  setCheckedUpdateHandler(
    decideApprovalUpdate,
    'approve',
    (d) => {
      approve(d);
      return state.outcome(d);
    },
    (d) => refuseWith(() => manual.checkApproval(d)),
  );
  setCheckedUpdateHandler(
    decideResumeUpdate,
    'resume',
    (d) => {
      resume(d);
      return state.outcome(d);
    },
    (d) => refuseWith(() => manual.checkResume(d)),
  );
  setCheckedUpdateHandler(
    decideTrapUpdate,
    'trap',
    (d) => {
      decideTrap(d);
      return state.outcome(d);
    },
    (d) => {
      refuseWith(() => manual.checkTrap(d));
      // Stop and wait: no action starts again, so the command cannot be retried now (skip or abort can).
      if (d.decision === 'retry' && state.stopRequest) {
        throw ApplicationFailure.nonRetryable(
          'the execution is stopping: the command will not run again (skip or abort instead)',
          ErrorTypes.WrongState,
        );
      }
    },
  );
}
