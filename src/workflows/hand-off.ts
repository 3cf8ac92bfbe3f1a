/**
 * A stage's lock given on by its last command, as the command ends.
 *
 * A locked (QUEUED or SUPERSEDED) execution leaves a stage by a signal to its coordinator, which lets the next
 * execution in. Sent by the workflow, that signal waits for the workflow's own task after the command's end:
 * the next execution enters one workflow task later than it could. When the stage's last action is a lone
 * command whose success can only mean the stage succeeded, the workflow hands the same signal to the command's
 * activity, which sends it to the coordinator as the script exits 0, and says so in its result. The coordinator
 * stays the one place that decides who holds a lock: what it receives is what the workflow would have sent.
 *
 * Not armed where a success of the command does not settle the stage, or where a lost worker after the signal
 * could make the workflow act on a stage already given on: a trap (a failure waits for a person holding the
 * stage), `onWorkerLoss: rerun` (the command would run again), a rollback on failure (it holds the stage), named
 * locks (given back first), a stage with more than one slot, an execution already stopping.
 *
 * Replay: nothing here adds a command. Whether the workflow sent the signal itself is read from the activity's
 * recorded result (older results never say `handedOff`), so histories of every release replay as they ran.
 */
import type { CommandAction, Stage } from '../shared/definition.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { LeaveStageInput, RequestStageInput } from '../shared/messages.js';

/** What the command's activity sends its coordinator when the script exits 0. */
export type HandOff = { coordinator: string } & (
  { signal: 'requestStage'; payload: RequestStageInput } | { signal: 'leaveStage'; payload: LeaveStageInput }
);

/** The stage a hand-off asks the coordinator for as its command ends (null: it only leaves, or there is none). */
export function askedStage(handOff: HandOff | undefined): string | null {
  return handOff?.signal === 'requestStage' ? handOff.payload.stage : null;
}

/** The stage's last action, its next stage, and what the workflow knows of the execution now. */
export interface HandOffCase {
  input: ExecutionInput;
  coordinator: string;
  stage: Stage;
  action: CommandAction;
  /** The stage after it (null: the last stage). */
  next: Stage | null;
  /** The execution asks for its next stage in the same signal as it leaves this one. */
  leavingInRequest: boolean;
  stopping: boolean;
}

/** The signal the command sends as it succeeds, or null when this command may not give the stage on. */
export function handOffFor(c: HandOffCase): HandOff | null {
  const { input, stage, action, next } = c;
  if (input.definition.executionMode === 'PARALLEL' || c.stopping) return null;
  if (action.onError === 'trap' || action.onWorkerLoss === 'rerun') return null;
  if (input.definition.rollbackOnFailure || stage.locks !== undefined || (stage.concurrency ?? 1) > 1) return null;
  const leaving = { stage: stage.name, outcome: 'Succeeded' as const };
  if (!next)
    return {
      coordinator: c.coordinator,
      signal: 'leaveStage',
      payload: { executionId: input.executionId, ...leaving },
    };
  // Two signals (ask, then leave) stay the workflow's: one of them sent and not the other is not a state to leave.
  if (!c.leavingInRequest) return null;
  return {
    coordinator: c.coordinator,
    signal: 'requestStage',
    payload: { executionId: input.executionId, stage: next.name, leaving },
  };
}

/**
 * What became of the hand-off armed for the stage's command: `sent` (the activity says it sent it), `unknown`
 * (the activity did not report: its worker was lost, or it was cancelled; it may have sent it), or `unsent`.
 */
export type HandOffResult = 'sent' | 'unknown' | 'unsent';

/** The one hand-off an execution may have armed, for the stage it is in. */
export class HandOffs {
  private armed: {
    stage: string;
    action: string;
    handOff: HandOff;
    /** The command was given it (a stop may end the stage before its last group starts). */
    given: boolean;
    result: HandOffResult | null;
  } | null = null;

  arm(stage: string, action: string, handOff: HandOff): void {
    this.armed = { stage, action, handOff, given: false, result: null };
  }

  /** Whether the armed hand-off asks for `stage` (the coordinator may answer before the command's stage ends). */
  asks(stage: string): boolean {
    return askedStage(this.armed?.handOff) === stage;
  }

  /** The hand-off a command of `stage` carries, if it was armed for it (the command is about to start). */
  for(stage: string, action: string): HandOff | undefined {
    const armed = this.armed;
    if (!armed || armed.stage !== stage || armed.action !== action) return undefined;
    armed.given = true;
    return armed.handOff;
  }

  /** The command armed for `stage`/`action` ended: `result` says what became of its hand-off. */
  ended(stage: string, action: string, result: HandOffResult): void {
    if (this.armed?.stage === stage && this.armed.action === action) this.armed.result = result;
  }

  /**
   * Once `stage` has run: what became of its hand-off (null when none was armed, its command never started, or
   * surely none went out) and whether it asked for the next stage. A command that started and never reported
   * (cancelled) counts as `unknown`.
   */
  take(stage: string): { result: 'sent' | 'unknown'; askedNext: boolean } | null {
    const armed = this.armed;
    if (armed?.stage !== stage) return null;
    this.armed = null;
    if (!armed.given) return null;
    const result = armed.result ?? 'unknown';
    return result === 'unsent' ? null : { result, askedNext: armed.handOff.signal === 'requestStage' };
  }
}
