/**
 * Annotations (Clarive): comments, logs, other records and attached files that people add to an execution
 * at any time of its life, also after it ended; what is said in its bound chat channels (kind `chat`); and
 * the output of Talkback commands (kind `log`). They live under the data directory, not in the workflow: an
 * ended workflow takes no more messages, and files do not belong in history. The gateway and workers both
 * write here (a shared volume in a multi-host deployment, as for logs).
 *
 *   annotations/<executionId>.jsonl   one JSON line per annotation, appended
 *   attachments/<sha256>              each file once, named by its content hash
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

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

export class AnnotationStore {
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
      await this.storeFile(sha256, file.content);
      annotation.file = { name: file.name, size: file.content.length, sha256, contentType: file.contentType };
    }
    const list = this.listPath(executionId);
    await mkdir(path.dirname(list), { recursive: true });
    await appendFile(list, `${JSON.stringify(annotation)}\n`);
    return annotation;
  }

  async list(executionId: string): Promise<Annotation[]> {
    const text = await readFile(this.listPath(executionId), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Annotation);
  }

  async file(
    executionId: string,
    annotationId: string,
  ): Promise<{ annotation: Annotation; stream: ReadStream } | null> {
    const annotation = (await this.list(executionId)).find((a) => a.id === annotationId);
    if (!annotation?.file) return null;
    return { annotation, stream: createReadStream(path.join(this.dataDir, 'attachments', annotation.file.sha256)) };
  }

  private listPath(executionId: string): string {
    return path.join(this.dataDir, 'annotations', `${executionId}.jsonl`);
  }

  /** Content-addressed: the same file attached twice is stored once; written whole, then renamed into place. */
  private async storeFile(sha256: string, content: Buffer): Promise<void> {
    const dir = path.join(this.dataDir, 'attachments');
    await mkdir(dir, { recursive: true });
    const staging = path.join(dir, `.${sha256}.${randomUUID()}`);
    await writeFile(staging, content);
    await rename(staging, path.join(dir, sha256));
  }
}
