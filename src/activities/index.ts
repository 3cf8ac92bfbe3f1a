/**
 * All of Paso's I/O that workflows ask for, built from its dependencies so tests can hand in their own.
 * Workflows import the `Activities` type only.
 */
import type { ChatDeps, PostChatInput } from './chat.js';
import { postChat } from './chat.js';
import type { RunCheckInput } from './check.js';
import { runCheck } from './check.js';
import type { CommandDeps, RunCommandInput } from './command.js';
import { runCommand } from './command.js';
import type { AcquireLocksInput } from '../shared/messages.js';
import { requestNamedLocks } from './named-locks.js';
import type { RecoverNamedLocksInput } from './recover-locks.js';
import { recoverNamedLocks } from './recover-locks.js';
import type { NotifyInput } from './notify.js';
import { notify } from './notify.js';
import type { RecoverPipelineInput } from './recover.js';
import { recoverPipeline } from './recover.js';
import type { ScheduleDeps, SyncSchedulesInput, TriggerScheduledInput } from './schedules.js';
import { syncSchedules, triggerScheduled } from './schedules.js';
import type { RunTalkbackActivityInput } from './talkback.js';
import { runTalkback } from './talkback.js';
import type { TellTransitionClosedInput } from './transitions.js';
import { tellTransitionClosed } from './transitions.js';
import type { WatchDeps, WatchExecutionsInput } from './watch.js';
import { watchExecutions } from './watch.js';

export type ActivityDeps = CommandDeps & WatchDeps & ScheduleDeps & ChatDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    runCommand: (input: RunCommandInput) => runCommand(deps, input),
    runCheck: (input: RunCheckInput) => runCheck(deps, input),
    watchExecutions: (input: WatchExecutionsInput) => watchExecutions(deps, input),
    recoverPipeline: (input: RecoverPipelineInput) => recoverPipeline(deps, input),
    tellTransitionClosed: (input: TellTransitionClosedInput) => tellTransitionClosed(deps, input),
    syncSchedules: (input: SyncSchedulesInput) => syncSchedules(deps, input),
    triggerScheduled: (input: TriggerScheduledInput) => triggerScheduled(deps, input),
    notify: (input: NotifyInput) => notify(input),
    postChat: (input: PostChatInput) => postChat(deps, input),
    runTalkback: (input: RunTalkbackActivityInput) => runTalkback(deps, input),
    requestNamedLocks: (input: AcquireLocksInput) => requestNamedLocks(deps, input),
    recoverNamedLocks: (input: RecoverNamedLocksInput) => recoverNamedLocks(deps, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { RunCommandInput } from './command.js';
