/**
 * Paso's own data outside Temporal: action logs, annotations and attachments. Two implementations behind one
 * interface: files under `$PASO_DATA_DIR` (the embedded default, one machine) and PostgreSQL when
 * `PASO_DATABASE_URL` is set (any number of workers and gateways on any hosts, nothing on a shared disk).
 * `test/unit/store.test.ts` runs one contract suite against both.
 */
import type { Readable } from 'node:stream';
import type { Annotation, NewAnnotation } from '../annotations.js';

/**
 * A log's name: `<executionId>/<stage>/<action>` or `<executionId>/.talkback/<id>`, built only from checked
 * names (see data-dir.ts), so it is also a safe relative file path.
 */
export type LogKey = string;

export interface LogStore {
  /** Up to `max` bytes of the log from `offset`; empty when there are none (yet). */
  read(key: LogKey, offset: number, max: number): Promise<Buffer>;
  /** The log's size in bytes (0 when nothing was written). */
  size(key: LogKey): Promise<number>;
  /**
   * Writes `chunk` at `offset`, which must be the log's size or an offset written before with the same bytes
   * (a retried append): appends are idempotent.
   */
  append(key: LogKey, offset: number, chunk: Buffer): Promise<void>;
  /** Whether workers write to this store themselves (false: the files they write are the store). */
  readonly shipped: boolean;
}

/** An attachment opened for reading: its size is the stored content's, not the size recorded at upload. */
export interface OpenAttachment {
  annotation: Annotation & { file: NonNullable<Annotation['file']> };
  size: number;
  stream: Readable;
}

export interface AnnotationRepository {
  add(
    executionId: string,
    entry: NewAnnotation,
    file?: { name: string; contentType: string; content: Buffer },
  ): Promise<Annotation>;
  /** An execution's annotations, oldest first. */
  list(executionId: string): Promise<Annotation[]>;
  /** An annotation's attached file, or null when there is none. */
  openFile(executionId: string, annotationId: string): Promise<OpenAttachment | null>;
}

/** The store could not be reached or did not answer in time: try again later (the gateway answers 503). */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

export interface PasoStore {
  logs: LogStore;
  annotations: AnnotationRepository;
  close(): Promise<void>;
}
