/**
 * Handlers that check their payload first (see `shared/message-schemas.ts`): a signal with a bad payload is
 * dropped and logged (nobody waits for its answer), an Update with one is refused in its validator, so
 * neither leaves a trace in history nor fails a workflow task.
 */
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { MessageName } from '../shared/message-schemas.js';
import { checkMessage } from '../shared/message-schemas.js';
import { ErrorTypes } from '../shared/messages.js';

export function setCheckedSignalHandler<T>(
  signal: SignalDefinition<[T]>,
  name: MessageName,
  handler: (input: T) => void | Promise<void>,
): void {
  setHandler(signal, (payload: T) => {
    const checked = checkMessage(name, payload);
    if (!checked.ok) {
      log.warn(`signal ${signal.name} dropped: ${checked.problems}`);
      return;
    }
    return handler(checked.value as T);
  });
}

export function setCheckedUpdateHandler<R, T>(
  update: UpdateDefinition<R, [T]>,
  name: MessageName,
  handler: (input: T) => R | Promise<R>,
  validator?: (input: T) => void,
): void {
  // The validator has refused a bad payload before the handler runs; replaying a history written before
  // these checks, the handler takes what it took then.
  setHandler(update, (payload: T) => handler(parsedOrAsIs(name, payload)), {
    validator: (payload: T) => {
      validator?.(checkedValue(name, payload));
    },
  });
}

/** The parsed payload (defaults applied), or the refusal an Update's caller sees as a 400. */
function checkedValue<T>(name: MessageName, payload: T): T {
  const checked = checkMessage(name, payload);
  if (!checked.ok) throw ApplicationFailure.nonRetryable(checked.problems, ErrorTypes.InvalidRequest);
  return checked.value as T;
}

function parsedOrAsIs<T>(name: MessageName, payload: T): T {
  const checked = checkMessage(name, payload);
  return checked.ok ? (checked.value as T) : payload;
}
