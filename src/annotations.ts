/**
 * Annotations (Clarive): comments, logs, other records and attached files that people add to an execution
 * at any time of its life, also after it ended; what is said in its bound chat channels (kind `chat`); and
 * the output of Talkback commands (kind `log`). They live under the data directory, not in the workflow: an
 * ended workflow takes no more messages, and files do not belong in history. The gateway and workers both
 * write here (a shared volume in a multi-host deployment, as for logs).
 *
 *   annotations/<executionId>.jsonl   one JSON line per annotation, appended
 *   attachments/<sha256>              each file once, named by its content hash; mode 0600, never executable
 *
 * Attachments are what operators upload, so commands must not stumble on them: commands run in
 * `workspaces/<executionId>/` with a fixed PATH, nothing under `attachments/` is on their way, and no file here
 * is executable. (A command can still read one by its path; what stops an uploaded library from being loaded
 * is that variables such as LD_PRELOAD are refused, see `shared/variables.ts`.) Paths are built only from a
 * checked execution id and a checked 64-hex hash: a planted or torn JSONL line makes the gateway read nothing else.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseExecutionId } from './shared/execution.js';
import type { AnnotationRepository, OpenAttachment } from './store/store.js';

export type { OpenAttachment } from './store/store.js';

export type AnnotationKind = 'comment' | 'log' | 'other' | 'attachment' | 'chat';

export interface Annotation {
  id: string;
  kind: AnnotationKind;
  text?: string;
  file?: { name: string; size: number; sha256: string; contentType: string };
  by: string;
  at: string;
  /** Where a `chat` annotation was said: the Slack user, channel and message timestamp. */
  slack?: { user: string; channel: string; ts: string };
}

export interface NewAnnotation {
  kind: AnnotationKind;
  text?: string;
  by: string;
  slack?: Annotation['slack'];
  /**
   * A stable id for annotations that may be delivered twice (a chat message Slack sends again, a Talkback
   * activity Temporal retries): the second add finds the first and changes nothing.
   */
  id?: string;
}

/** Annotation ids Paso makes: a UUID, `chat-<channel>-<ts>`, `talkback-<id>`. */
export const ANNOTATION_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Readable by Paso's user alone, and without an execute bit: no attachment can be run by its path. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * The record an added annotation gets, whichever store keeps it: its id (given, or new), who and when, and its
 * file's name, size, content type and SHA-256 (the key the file's content is stored under).
 */
export function annotationRecord(
  entry: NewAnnotation,
  file?: { name: string; contentType: string; content: Buffer },
): Annotation {
  const annotation: Annotation = {
    id: entry.id ?? randomUUID(),
    kind: entry.kind,
    by: entry.by,
    at: new Date().toISOString(),
  };
  if (entry.text !== undefined) annotation.text = entry.text;
  if (entry.slack) annotation.slack = entry.slack;
  if (file) {
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    annotation.file = { name: file.name, size: file.content.length, sha256, contentType: file.contentType };
  }
  return annotation;
}

export class AnnotationStore implements AnnotationRepository {
  constructor(private readonly dataDir: string) {}

  async add(
    executionId: string,
    entry: NewAnnotation,
    file?: { name: string; contentType: string; content: Buffer },
  ): Promise<Annotation> {
    if (entry.id !== undefined) {
      const existing = (await this.list(executionId)).find((a) => a.id === entry.id);
      if (existing) return existing;
    }
    const annotation = annotationRecord(entry, file);
    if (file) await this.storeFile(annotation.file!.sha256, file.content);
    const list = this.listPath(executionId);
    await mkdir(path.dirname(list), { recursive: true });
    await appendFile(list, `${JSON.stringify(annotation)}\n`);
    return annotation;
  }

  /** An execution's annotations, oldest first. A line that does not parse (a write cut short) is skipped. */
  async list(executionId: string): Promise<Annotation[]> {
    if (!parseExecutionId(executionId)) return [];
    const text = await readFile(this.listPath(executionId), 'utf8').catch(() => '');
    return text.split('\n').flatMap((line) => {
      if (!line) return [];
      try {
        return [JSON.parse(line) as Annotation];
      } catch {
        return [];
      }
    });
  }

  /**
   * Opens an annotation's attached file, or null when there is none: an unknown or malformed id, a stored
   * hash that is not 64 hex digits, a file that is gone or is not a regular file.
   */
  async openFile(executionId: string, annotationId: string): Promise<OpenAttachment | null> {
    if (!ANNOTATION_ID.test(annotationId)) return null;
    const annotation = (await this.list(executionId)).find((a) => a.id === annotationId);
    const file = annotation?.file;
    if (!annotation || !file || typeof file.sha256 !== 'string' || !SHA256_HEX.test(file.sha256)) return null;
    const handle = await open(path.join(this.dataDir, 'attachments', file.sha256), 'r').catch(() => null);
    if (!handle) return null;
    const stat = await handle.stat().catch(() => null);
    if (!stat?.isFile()) {
      await handle.close();
      return null;
    }
    return { annotation: { ...annotation, file }, size: stat.size, stream: handle.createReadStream() };
  }

  private listPath(executionId: string): string {
    if (!parseExecutionId(executionId)) throw new Error(`not an execution id: ${JSON.stringify(executionId)}`);
    return path.join(this.dataDir, 'annotations', `${executionId}.jsonl`);
  }

  /** Content-addressed: the same file attached twice is stored once; written whole, then renamed into place. */
  private async storeFile(sha256: string, content: Buffer): Promise<void> {
    const dir = path.join(this.dataDir, 'attachments');
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
    const staging = path.join(dir, `.${sha256}.${randomUUID()}`);
    // `mode` applies only when the file is created, which a fresh staging name always is (umask can only narrow it).
    await writeFile(staging, content, { mode: FILE_MODE, flag: 'wx' });
    await rename(staging, path.join(dir, sha256));
  }
}
