/**
 * Group commit for execution ids: the triggers of one pipeline that arrive while its coordinator is busy
 * with earlier allocations wait together, and go to it as one Update (`allocateExecutions`) as soon as one of
 * the `inFlight` places is free. A burst of a hundred triggers is then a handful of Updates, each one workflow
 * task and two history events, instead of a hundred. The order of arrival is kept within a batch (the
 * coordinator numbers its requests in order), and batches are sent in the order they filled; batches on their
 * way at once may be numbered in any order, as single Updates in flight at once always could.
 */

/** What one request of a batch came to: its answer, or why it was refused. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface BatcherOptions<Q, R> {
  /** How many batches of one key may be on their way at once. */
  inFlight: number;
  /** The most requests one batch carries. */
  maxBatch: number;
  /** Sends a batch; settles each request in order (or rejects, which rejects every request of the batch). */
  send: (key: string, requests: Q[]) => Promise<Settled<R>[]>;
}

interface Waiting<Q, R> {
  request: Q;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export class AllocationBatcher<Q, R> {
  private readonly queues = new Map<string, { running: number; waiting: Waiting<Q, R>[] }>();

  constructor(private readonly options: BatcherOptions<Q, R>) {}

  /** The answer to one request, sent with those of the same key waiting beside it. */
  request(key: string, request: Q): Promise<R> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { running: 0, waiting: [] }));
    const answer = new Promise<R>((resolve, reject) => queue.waiting.push({ request, resolve, reject }));
    this.pump(key);
    return answer;
  }

  private pump(key: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    while (queue.running < this.options.inFlight && queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, this.options.maxBatch);
      queue.running += 1;
      void this.sendBatch(key, batch).finally(() => {
        queue.running -= 1;
        if (queue.running === 0 && queue.waiting.length === 0) this.queues.delete(key);
        else this.pump(key);
      });
    }
  }

  private async sendBatch(key: string, batch: Waiting<Q, R>[]): Promise<void> {
    try {
      const settled = await this.options.send(
        key,
        batch.map((w) => w.request),
      );
      batch.forEach((w, i) => {
        const result = settled[i];
        if (!result) w.reject(new Error(`no answer for request ${i + 1} of a batch of ${batch.length}`));
        else if (result.ok) w.resolve(result.value);
        else w.reject(result.error);
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
