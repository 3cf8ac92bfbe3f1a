/**
 * ChatOps inside the execution workflow: the chat channels bound to it, what it posts there, and Talkback
 * commands run on its behalf.
 *
 * Posts go out one at a time, in order, each as a `postChat` activity that Temporal retries (a rate limit
 * waits as long as Slack asks; an outage waits with backoff for up to a day). The sender runs beside the
 * stages in a scope of its own, so a slow Slack never holds the pipeline back and a stop-and-abandon never
 * cancels a post; the workflow waits for the last posts only before it ends.
 */
import {
  ApplicationFailure,
  CancellationScope,
  condition,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { PostChatInput } from '../activities/chat.js';
import type { ChatDecision } from '../shared/chat-buttons.js';
import { statusText, talkbackText } from '../shared/chat-text.js';
import type { ExecutionInput } from '../shared/execution.js';
import type { RunTalkbackInput } from '../shared/messages.js';
import { bindChannelUpdate, ErrorTypes, runTalkbackUpdate } from '../shared/messages.js';
import { PasoChannels } from '../shared/temporal.js';
import { runScriptActivity } from './placement.js';
import type { ExecutionState } from './execution-state.js';
import { setCheckedUpdateHandler } from './guard.js';

const { postChat } = proxyActivities<Activities>({
  summary: 'chat post',
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  // Posts run in a scope nothing cancels; should one be cancelled all the same, it need not be waited for.
  cancellationType: 'TRY_CANCEL',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '5m',
    nonRetryableErrorTypes: [ErrorTypes.ChatRefused],
  },
});

const WELCOME =
  'This channel follows the execution: what is said here is recorded on it. Mention me with `status`, ' +
  '`approve [comment]`, `reject [comment]`, `resume`, `retry`, `skip`, `abort`, `stop [abandon]` or `run <talkback>`.';

export class ExecutionChat {
  private readonly queue: PostChatInput[] = [];
  private closing = false;
  private talkbacksRunning = 0;
  private readonly delivery: Promise<void>;

  constructor(
    private readonly input: ExecutionInput,
    private readonly state: ExecutionState,
    private readonly now: () => string,
  ) {
    this.delivery = CancellationScope.nonCancellable(() => this.deliver());
    // Both refused once the workflow is ending: a post or a command started then would be cut off.
    const validator = (_request: unknown) => {
      if (this.closing) throw ApplicationFailure.nonRetryable('the execution is ending', ErrorTypes.WrongState);
    };
    setCheckedUpdateHandler(
      bindChannelUpdate,
      'bindChannel',
      ({ channel, name, by }) => {
        if (this.state.bindChannel({ channel, name, by, at: this.now() })) {
          upsertSearchAttributes([{ key: PasoChannels, value: this.state.channels.map((c) => c.channel) }]);
          const status = statusText(this.state.view(), this.input.reviewUrl ?? null);
          this.queue.push({ channel, text: `${status}\n${WELCOME}` });
        }
        return this.state.outcome();
      },
      validator,
    );
    setCheckedUpdateHandler(
      runTalkbackUpdate,
      'runTalkback',
      (request) => {
        const run = this.state.talkbackStarted(request.name, request.by, this.now());
        this.talkbacksRunning += 1;
        void CancellationScope.nonCancellable(() => this.runTalkback(run.id, request));
        return run;
      },
      validator,
    );
  }

  /**
   * Posts the text to every bound channel; with none bound, it is not even written. A `decision` (a manual
   * step waiting for people) adds its buttons.
   */
  post(text: () => string, decision?: ChatDecision): void {
    if (this.state.channels.length === 0) return;
    const written = text();
    for (const { channel } of this.state.channels) {
      this.queue.push({ channel, text: written, ...(decision ? { decision } : {}) });
    }
  }

  /** Waits for running Talkback commands and for every post to be delivered (or given up). */
  async close(): Promise<void> {
    this.closing = true;
    await condition(() => this.talkbacksRunning === 0);
    await this.delivery;
  }

  private async deliver(): Promise<void> {
    for (;;) {
      await condition(() => this.queue.length > 0 || (this.closing && this.talkbacksRunning === 0));
      const next = this.queue.shift();
      if (!next) return;
      // A post Slack refuses for good (channel archived, bot removed) is dropped; the next one is tried.
      await postChat(next).catch(() => undefined);
    }
  }

  private async runTalkback(id: string, request: RunTalkbackInput): Promise<void> {
    try {
      const script = { timeoutSeconds: request.timeoutSeconds, summary: `talkback ${request.name}`, now: this.now };
      const { outcome, error } = await runScriptActivity(script, (activities) =>
        activities.runTalkback({
          executionId: this.input.executionId,
          pipeline: this.input.pipeline,
          id,
          name: request.name,
          run: request.run,
          by: request.by,
          variables: this.input.variables,
          timeoutSeconds: request.timeoutSeconds,
          ...(request.secrets?.length ? { secrets: request.secrets } : {}),
        }),
      );
      const run = this.state.talkbackEnded(id, outcome, error, this.now());
      this.post(() => talkbackText(run));
    } finally {
      this.talkbacksRunning -= 1;
    }
  }
}
