/**
 * Who may decide a manual step, as pure rules: the execution enforces them (`ManualWaits`), and front ends
 * (the console) ask them only to offer the buttons a person may use. Each answers why not, or null.
 */
import type { ApprovalAction, PauseAction } from './definition.js';
import type { Decider } from './messages.js';

const OPERATOR_ROLES = ['operator', 'admin'];

/** Why `d` may not approve or reject this approval, or null when they may. */
export function approvalRefusal(d: Decider, spec: ApprovalAction, triggeredBy: string): string | null {
  if (!isAmong(d, spec.approvers)) return `${d.by} is not an approver of this action`;
  if (d.by === triggeredBy && !spec.allowSelfApproval) {
    return `${d.by} triggered this execution and may not approve it`;
  }
  return null;
}

/** Why `d` may not resume this pause, or null: operators may resume any pause, others when `allowed` names them. */
export function resumeRefusal(d: Decider, spec: PauseAction): string | null {
  return isOperator(d) || (spec.allowed && isAmong(d, spec.allowed)) ? null : `${d.by} may not resume this pause`;
}

/** Why `d` may not decide an error trap, or null: operators do. */
export function trapRefusal(d: Decider): string | null {
  return isOperator(d) ? null : `${d.by} may not decide traps (operators do)`;
}

function isAmong(d: Decider, who: { users: string[]; groups: string[] }): boolean {
  return who.users.includes(d.by) || (d.groups ?? []).some((g) => who.groups.includes(g));
}

function isOperator(d: Decider): boolean {
  return (d.roles ?? []).some((r) => OPERATOR_ROLES.includes(r));
}
