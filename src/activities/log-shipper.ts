/**
 * Ships a running script's output from the worker's log file to the store (PostgreSQL), at most a second
 * behind, so that any gateway can serve it while the script runs. The file stays the worker's own copy: a
 * chunk the store does not take now is sent again on the next beat, and the script never fails for it.
 */
import { open, stat } from 'node:fs/promises';
import type { LogStore } from '../store/store.js';

const SHIP_INTERVAL_MS = 1_000;
const CHUNK_BYTES = 256 * 1024;

export interface LogShipper {
  /** Ships what is left (retrying for a while) and stops. */
  finish(): Promise<void>;
}

/**
 * Starts shipping the part of `file` written from now on to `key`, appended after what the store has (an
 * earlier attempt, maybe from another worker). Nothing happens for a store workers do not ship to.
 */
export async function shipLog(
  logs: LogStore,
  key: string,
  file: string,
  warn: (line: string) => void,
): Promise<LogShipper> {
  if (!logs.shipped) return { finish: () => Promise.resolve() };
  const fromLocal = await stat(file).then(
    (s) => s.size,
    () => 0,
  );
  let base: number | null = await logs.size(key).catch(() => null);
  let shipped = 0; // bytes of the file after `fromLocal` the store has
  let busy: Promise<boolean> | null = null;

  const ship = async (): Promise<boolean> => {
    try {
      base ??= await logs.size(key);
      const handle = await open(file, 'r');
      try {
        for (;;) {
          const { bytesRead, buffer } = await handle.read(
            Buffer.alloc(CHUNK_BYTES),
            0,
            CHUNK_BYTES,
            fromLocal + shipped,
          );
          if (bytesRead === 0) return true;
          await logs.append(key, base + shipped, buffer.subarray(0, bytesRead));
          shipped += bytesRead;
        }
      } finally {
        await handle.close();
      }
    } catch (err) {
      warn(`log ${key}: could not ship output yet (${(err as Error).message}); retrying`);
      return false;
    }
  };
  const beat = () => {
    busy ??= ship().finally(() => (busy = null));
    return busy;
  };
  const timer = setInterval(() => void beat(), SHIP_INTERVAL_MS);
  return {
    async finish() {
      clearInterval(timer);
      if (busy) await busy;
      for (let attempt = 0; attempt < 10; attempt++) {
        if (await beat()) return;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      warn(`log ${key}: gave up shipping the end of the output; the worker's file has it`);
    },
  };
}
