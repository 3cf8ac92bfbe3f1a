/**
 * The file store, the embedded default: logs are the files workers write under `$PASO_DATA_DIR/logs`,
 * annotations and attachments the files of `annotations.ts`. One machine, or a volume every process shares.
 */
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { AnnotationStore } from '../annotations.js';
import { logPath } from '../data-dir.js';
import type { LogKey, LogStore, PasoStore } from './store.js';

export class FileLogs implements LogStore {
  readonly shipped = false;

  constructor(private readonly dataDir: string) {}

  async read(key: LogKey, offset: number, max: number): Promise<Buffer> {
    const handle = await open(logPath(this.dataDir, key), 'r').catch(() => null);
    if (!handle) return Buffer.alloc(0);
    try {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(max), 0, max, offset);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async size(key: LogKey): Promise<number> {
    return stat(logPath(this.dataDir, key)).then(
      (s) => s.size,
      () => 0,
    );
  }

  async append(key: LogKey, offset: number, chunk: Buffer): Promise<void> {
    const file = logPath(this.dataDir, key);
    await mkdir(path.dirname(file), { recursive: true });
    await (await open(file, 'a')).close();
    const handle = await open(file, 'r+');
    try {
      await handle.write(chunk, 0, chunk.length, offset);
    } finally {
      await handle.close();
    }
  }
}

export function fileStore(dataDir: string): PasoStore {
  return { logs: new FileLogs(dataDir), annotations: new AnnotationStore(dataDir), close: () => Promise.resolve() };
}
