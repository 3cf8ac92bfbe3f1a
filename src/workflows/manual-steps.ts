/**
 * Clarive's manual steps as they wait inside an execution: approvals, pauses and error traps. Who may
 * decide, what a decision does, and when the wait is over, with no Temporal in it: the workflow opens a wait,
 * feeds decisions in (from a signal or an Update) and awaits the outcome. Unit-tested on its own.
 */
import type { ApprovalAction, PauseAction } from '../shared/definition.js';
import type { ApprovalDecision, ResumeDecision, TrapDecision } from '../shared/messages.js';
import { approvalRefusal, resumeRefusal, trapRefusal } from '../shared/rights.js';

export type ManualKind = 'approval' | 'resume' | 'trap';

export type Outcome =
  | { kind: 'approved' }
  | { kind: 'rejected'; by: string }
  | { kind: 'resumed'; by: string }
  | { kind: 'trap'; decision: TrapDecision['decision']; by: string };

export class DecisionRefused extends Error {
  constructor(
    readonly reason: 'forbidden' | 'not-waiting' | 'unknown',
    message: string,
  ) {
    super(message);
  }
}

interface Wait {
  kind: ManualKind;
  spec: ApprovalAction | PauseAction | null;
  approvedBy: string[];
  outcome: Outcome | null;
}

export class ManualWaits {
  private readonly waits = new Map<string, Wait>();

  /**
   * @param triggeredBy who triggered the execution: they may not approve it unless `allowSelfApproval`.
   * @param changed told what is waiting (each kind once, sorted) whenever a wait opens or closes.
   */
  constructor(
    private readonly triggeredBy: string,
    private readonly knows: (stage: string, action: string) => boolean,
    private readonly changed: (kinds: ManualKind[]) => void = () => undefined,
  ) {}

  open(stage: string, action: string, kind: ManualKind, spec: ApprovalAction | PauseAction | null = null): void {
    this.waits.set(key(stage, action), { kind, spec, approvedBy: [], outcome: null });
    this.changed(this.kinds());
  }

  /** The kinds of the waits open now, each once, sorted. */
  kinds(): ManualKind[] {
    return [...new Set([...this.waits.values()].map((w) => w.kind))].sort();
  }

  outcome(stage: string, action: string): Outcome | null {
    return this.waits.get(key(stage, action))?.outcome ?? null;
  }

  close(stage: string, action: string): void {
    if (this.waits.delete(key(stage, action))) this.changed(this.kinds());
  }

  /** Closes every wait (an execution cancelled from Temporal while people were asked something). */
  closeAll(): void {
    if (this.waits.size === 0) return;
    this.waits.clear();
    this.changed([]);
  }

  checkApproval(d: ApprovalDecision): void {
    const wait = this.waiting(d, 'approval');
    const spec = wait.spec as ApprovalAction;
    const refusal = approvalRefusal(d, spec, this.triggeredBy);
    if (refusal) throw new DecisionRefused('forbidden', refusal);
    if (wait.approvedBy.includes(d.by)) {
      throw new DecisionRefused('not-waiting', `${d.by} has already approved; each person counts once`);
    }
  }

  /** Records an approval or rejection (checked first); returns true when it was counted. */
  approve(d: ApprovalDecision): void {
    this.checkApproval(d);
    const wait = this.waits.get(key(d.stage, d.action))!;
    if (d.decision === 'reject') {
      wait.outcome = { kind: 'rejected', by: d.by };
      return;
    }
    wait.approvedBy.push(d.by);
    if (wait.approvedBy.length >= (wait.spec as ApprovalAction).required) wait.outcome = { kind: 'approved' };
  }

  checkResume(d: ResumeDecision): void {
    const wait = this.waiting(d, 'resume');
    const refusal = resumeRefusal(d, wait.spec as PauseAction);
    if (refusal) throw new DecisionRefused('forbidden', refusal);
  }

  resume(d: ResumeDecision): void {
    this.checkResume(d);
    this.waits.get(key(d.stage, d.action))!.outcome = { kind: 'resumed', by: d.by };
  }

  checkTrap(d: TrapDecision): void {
    this.waiting(d, 'trap');
    const refusal = trapRefusal(d);
    if (refusal) throw new DecisionRefused('forbidden', refusal);
  }

  decideTrap(d: TrapDecision): void {
    this.checkTrap(d);
    this.waits.get(key(d.stage, d.action))!.outcome = { kind: 'trap', decision: d.decision, by: d.by };
  }

  private waiting(d: { stage: string; action: string }, kind: ManualKind): Wait {
    if (!this.knows(d.stage, d.action)) {
      throw new DecisionRefused('unknown', `the execution has no action ${d.stage}/${d.action}`);
    }
    const wait = this.waits.get(key(d.stage, d.action));
    if (!wait || wait.kind !== kind || wait.outcome) {
      const what = { approval: 'an approval', resume: 'a resume', trap: 'a trap decision' }[kind];
      throw new DecisionRefused('not-waiting', `${d.stage}/${d.action} is not waiting for ${what}`);
    }
    return wait;
  }
}

function key(stage: string, action: string): string {
  return `${stage}\u0000${action}`;
}
