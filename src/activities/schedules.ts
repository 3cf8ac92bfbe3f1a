/**
 * Schedule triggers: each `triggers[i]` of a pipeline is a Temporal Schedule `pipeline:<name>:schedule:<i>`
 * whose action starts a `scheduledTrigger` workflow, which triggers an execution through the same path as
 * the API (so CHECK, idempotency and the coordinator apply alike).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ScheduleAlreadyRunning, ScheduleNotFoundError } from '@temporalio/client';
import type { PasoOptions } from '../api/paso.js';
import { Paso } from '../api/paso.js';
import { HttpProblem } from '../api/problem.js';
import type { PipelineDefinition } from '../shared/definition.js';
import { coordinatorWorkflowId } from '../shared/temporal.js';
import type { scheduledTrigger } from '../workflows/scheduled-trigger.js';

export interface ScheduleDeps {
  client: Client;
  taskQueue: string;
  /** The deployment's settings a trigger passes on (notification hook, public URL). */
  pasoOptions: PasoOptions;
}

export interface SyncSchedulesInput {
  pipeline: string;
  triggers: PipelineDefinition['triggers'];
  /** How many schedules the previous definition had: those beyond the new count are deleted. */
  previousCount: number;
}

export function scheduleId(pipeline: string, index: number): string {
  return `${coordinatorWorkflowId(pipeline)}:schedule:${index}`;
}

export async function syncSchedules(deps: ScheduleDeps, input: SyncSchedulesInput): Promise<void> {
  const { client, taskQueue } = deps;
  for (const [index, trigger] of input.triggers.entries()) {
    const scheduleIdValue = scheduleId(input.pipeline, index);
    const action = {
      type: 'startWorkflow' as const,
      workflowType: 'scheduledTrigger',
      args: [{ pipeline: input.pipeline }] as Parameters<typeof scheduledTrigger>,
      taskQueue,
      // One id per schedule (Temporal appends the firing time): two crons firing in one minute both trigger.
      workflowId: `${scheduleIdValue}:trigger`,
    };
    const spec = { cronExpressions: [trigger.cron] };
    try {
      await client.schedule.getHandle(scheduleIdValue).update((previous) => ({ ...previous, spec, action }));
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      try {
        await client.schedule.create({
          scheduleId: scheduleIdValue,
          spec,
          action,
          memo: { pipeline: input.pipeline },
        });
      } catch (raced) {
        if (!(raced instanceof ScheduleAlreadyRunning)) throw raced;
      }
    }
  }
  for (let index = input.triggers.length; index < input.previousCount; index++) {
    try {
      await client.schedule.getHandle(scheduleId(input.pipeline, index)).delete();
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    }
  }
}

export interface TriggerScheduledInput {
  pipeline: string;
  /** The scheduled workflow's id, unique per firing: a retry of this activity finds the same execution. */
  firingId: string;
}

/**
 * Triggers the firing's execution through the API's path. CHECK may run for a long time meanwhile (on a
 * worker, as the `check` workflow), so this heartbeats while it waits: a lost worker is noticed in seconds
 * and the retry, with the same idempotency key, finds the execution if it was made.
 */
export async function triggerScheduled(deps: ScheduleDeps, input: TriggerScheduledInput): Promise<string> {
  const ctx = Context.current();
  const heartbeat = setInterval(() => ctx.heartbeat(), 5_000);
  try {
    const paso = new Paso(deps.client, deps.taskQueue, deps.pasoOptions);
    const result = await paso.trigger(input.pipeline, { idempotencyKey: input.firingId }, 'schedule', 'schedule');
    return result.executionId;
  } catch (err) {
    // Refused (CHECK said no, the pipeline is gone, a variable is not declared): trying again changes nothing.
    if (err instanceof HttpProblem && err.status < 500) {
      throw ApplicationFailure.nonRetryable(`${err.status}: ${err.message}`, 'TriggerRefused');
    }
    throw err;
  } finally {
    clearInterval(heartbeat);
  }
}
