/**
 * Activities' log events carry the execution they work for: an activity interceptor adds the `pipeline`,
 * `executionId`, `stage` and `action` of the activity's input (where it has them) to every event its context
 * logger writes, the SDK's own ("Activity completed", failures) included.
 */
import type { Context } from '@temporalio/activity';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  ActivityOutboundCallsInterceptor,
  GetLogAttributesInput,
  Next,
} from '@temporalio/worker';

const FIELDS = ['pipeline', 'executionId', 'stage', 'action'] as const;

class Fields {
  value: Record<string, string> = {};
}

class Inbound implements ActivityInboundCallsInterceptor {
  constructor(private readonly fields: Fields) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const arg = input.args[0] as Record<string, unknown> | undefined;
    for (const key of FIELDS) if (typeof arg?.[key] === 'string') this.fields.value[key] = arg[key];
    // The notification hook's body names them differently.
    const body = arg?.body as Record<string, unknown> | undefined;
    if (typeof body?.execution === 'string') this.fields.value.executionId = body.execution;
    for (const key of ['pipeline', 'stage', 'action'] as const) {
      if (typeof body?.[key] === 'string') this.fields.value[key] = body[key];
    }
    return next(input);
  }
}

class Outbound implements ActivityOutboundCallsInterceptor {
  constructor(private readonly fields: Fields) {}

  getLogAttributes(
    input: GetLogAttributesInput,
    next: Next<ActivityOutboundCallsInterceptor, 'getLogAttributes'>,
  ): Record<string, unknown> {
    return next({ ...input, ...this.fields.value });
  }
}

export const activityLogContext: ActivityInterceptorsFactory = (_ctx: Context) => {
  const fields = new Fields();
  return { inbound: new Inbound(fields), outbound: new Outbound(fields) };
};
