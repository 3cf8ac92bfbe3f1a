/**
 * Fencing: a running command holds a lease on its activity attempt, renewed by heartbeats Temporal
 * acknowledges. Temporal hands an attempt to another worker only once its heartbeat timeout has passed
 * without a heartbeat; a worker that has had no acknowledgement for three quarters of that timeout kills its
 * command, so the old attempt is dead before a new one may start, even when the worker is cut off from Temporal
 * and never learns that it lost the attempt. Temporal answering that it no longer knows the attempt (it timed
 * out, or the execution is gone) ends the lease at once.
 *
 * The SDK's own `heartbeat()` cannot do this: it is fire-and-forget, and its failures are not reported to the
 * activity. So the lease calls RecordActivityTaskHeartbeat itself, with a deadline, besides the SDK's
 * heartbeats (which deliver cancellation).
 */
import type { Client } from '@temporalio/client';
import { isGrpcServiceError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';

export interface LeaseOptions {
  client: Client;
  namespace: string;
  taskToken: Uint8Array;
  identity: string;
  heartbeatTimeoutMs: number;
  /** Recorded with each heartbeat (the gateway reads them to show which action runs where). */
  details: unknown;
}

export interface Lease {
  /** Aborted when the lease is lost; its reason is a sentence for people. */
  readonly lost: AbortSignal;
  release(): void;
}

const GRPC_NOT_FOUND = 5;

/** The share of the heartbeat timeout after which a worker without acknowledgement kills its command. */
export const FENCE_FRACTION = 0.75;

export function holdLease(options: LeaseOptions): Lease {
  const lost = new AbortController();
  const interval = Math.min(5_000, Math.max(500, options.heartbeatTimeoutMs / 6));
  const fenceAfter = options.heartbeatTimeoutMs * FENCE_FRACTION;
  const details = { payloads: [defaultPayloadConverter.toPayload(options.details)] };
  let lastAck = Date.now();
  let inFlight = false;

  const lose = (reason: string) => {
    if (!lost.signal.aborted) lost.abort(reason);
  };
  const renew = async () => {
    if (inFlight || lost.signal.aborted) return;
    inFlight = true;
    try {
      await options.client.connection.withDeadline(Date.now() + interval, () =>
        options.client.workflowService.recordActivityTaskHeartbeat({
          namespace: options.namespace,
          taskToken: options.taskToken,
          identity: options.identity,
          details,
        }),
      );
      lastAck = Date.now();
    } catch (err) {
      if (isGrpcServiceError(err) && Number(err.code) === GRPC_NOT_FOUND) {
        lose('Temporal no longer knows this attempt (it timed out or its execution ended)');
      }
    } finally {
      inFlight = false;
    }
  };
  const check = () => {
    const silent = Date.now() - lastAck;
    if (silent > fenceAfter) lose(`no heartbeat reached Temporal for ${Math.round(silent / 1000)}s`);
  };
  const timer = setInterval(() => {
    check();
    void renew();
  }, interval);
  const fence = setInterval(check, 250);
  return {
    lost: lost.signal,
    release() {
      clearInterval(timer);
      clearInterval(fence);
    },
  };
}
