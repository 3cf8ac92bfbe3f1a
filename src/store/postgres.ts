/**
 * The PostgreSQL store (`PASO_DATABASE_URL`): every worker and gateway reads and writes the same logs,
 * annotations and attachments, with no shared disk. The schema is `migrations/*.sql`, applied by
 * node-pg-migrate when a process opens the store; several processes starting at once take turns (its
 * advisory lock: one applies, the others wait and find nothing left to do).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Annotation, NewAnnotation } from '../annotations.js';
import { ANNOTATION_ID, annotationRecord } from '../annotations.js';
import { parseExecutionId } from '../shared/execution.js';
import { projectRoot } from '../temporal/cli.js';
import type { AnnotationRepository, LogKey, LogStore, OpenAttachment, PasoStore } from './store.js';
import { StoreUnavailableError } from './store.js';

/** A query waits this long at most: a database that is down or slow answers an error, never a hang. */
const STATEMENT_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

export async function postgresStore(url: string, log: (line: string) => void = () => undefined): Promise<PasoStore> {
  await migrate(url, log);
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
  });
  // An idle connection the server drops is replaced on the next query; it must not crash the process.
  pool.on('error', (err) => log(`database connection lost: ${err.message}`));
  const db = new Database(pool);
  return { logs: new PgLogs(db), annotations: new PgAnnotations(db), close: () => pool.end() };
}

/**
 * The pool, its errors told apart: Paso's statements are fixed, so a failing one means the database is down,
 * unreachable or too slow, never bad input.
 */
class Database {
  constructor(private readonly pool: pg.Pool) {}

  async query<R extends pg.QueryResultRow>(sql: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, values);
    } catch (err) {
      throw new StoreUnavailableError(`Paso's database did not answer: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** Applies the migrations not yet applied. Another process migrating now: wait for it, then check again. */
async function migrate(url: string, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runner({
        databaseUrl: url,
        dir: path.join(projectRoot(), 'migrations'),
        direction: 'up',
        migrationsTable: 'paso_migrations',
        checkOrder: true,
        log: () => undefined,
        logger: { debug: () => undefined, info: () => undefined, warn: log, error: log },
      });
      return;
    } catch (err) {
      if (!/Another migration is already running/.test(String(err)) || attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

class PgLogs implements LogStore {
  readonly shipped = true;

  constructor(private readonly pool: Database) {}

  async read(key: LogKey, offset: number, max: number): Promise<Buffer> {
    const { rows } = await this.pool.query<{ start_offset: string; data: Buffer }>(
      `SELECT start_offset, data FROM paso_log_chunks
        WHERE log_key = $1 AND start_offset + length(data) > $2 AND start_offset < $3
        ORDER BY start_offset`,
      [key, offset, offset + max],
    );
    const parts: Buffer[] = [];
    let at = offset;
    for (const row of rows) {
      const start = Number(row.start_offset);
      if (start > at) break; // a gap: a later chunk arrived before an earlier one; stop where it is whole
      const from = at - start;
      const part = row.data.subarray(from, from + (offset + max - at));
      parts.push(part);
      at += part.length;
    }
    return Buffer.concat(parts);
  }

  async size(key: LogKey): Promise<number> {
    const { rows } = await this.pool.query<{ size: string | null }>(
      'SELECT max(start_offset + length(data)) AS size FROM paso_log_chunks WHERE log_key = $1',
      [key],
    );
    return Number(rows[0]?.size ?? 0);
  }

  async append(key: LogKey, offset: number, chunk: Buffer): Promise<void> {
    if (chunk.length === 0) return;
    await this.pool.query(
      'INSERT INTO paso_log_chunks (log_key, start_offset, data) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [key, offset, chunk],
    );
  }
}

class PgAnnotations implements AnnotationRepository {
  constructor(private readonly pool: Database) {}

  async add(
    executionId: string,
    entry: NewAnnotation,
    file?: { name: string; contentType: string; content: Buffer },
  ): Promise<Annotation> {
    if (!parseExecutionId(executionId)) throw new Error(`not an execution id: ${JSON.stringify(executionId)}`);
    const annotation = annotationRecord(entry, file);
    if (file) {
      await this.pool.query('INSERT INTO paso_attachments (sha256, content) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        annotation.file!.sha256,
        file.content,
      ]);
    }
    // An id given twice (a chat message Slack sends again, a retried Talkback) keeps the first.
    const inserted = await this.pool.query(
      `INSERT INTO paso_annotations (execution_id, id, body) VALUES ($1, $2, $3)
       ON CONFLICT (execution_id, id) DO NOTHING`,
      [executionId, annotation.id, annotation],
    );
    if (inserted.rowCount === 1) return annotation;
    return (await this.find(executionId, annotation.id)) ?? annotation;
  }

  async list(executionId: string): Promise<Annotation[]> {
    if (!parseExecutionId(executionId)) return [];
    const { rows } = await this.pool.query<{ body: Annotation }>(
      'SELECT body FROM paso_annotations WHERE execution_id = $1 ORDER BY seq',
      [executionId],
    );
    return rows.map((r) => r.body);
  }

  async openFile(executionId: string, annotationId: string): Promise<OpenAttachment | null> {
    if (!ANNOTATION_ID.test(annotationId) || !parseExecutionId(executionId)) return null;
    const annotation = await this.find(executionId, annotationId);
    const file = annotation?.file;
    if (!annotation || !file) return null;
    const { rows } = await this.pool.query<{ content: Buffer }>(
      'SELECT content FROM paso_attachments WHERE sha256 = $1',
      [file.sha256],
    );
    const content = rows[0]?.content;
    if (!content) return null;
    return { annotation: { ...annotation, file }, size: content.length, stream: Readable.from([content]) };
  }

  private async find(executionId: string, id: string): Promise<Annotation | null> {
    const { rows } = await this.pool.query<{ body: Annotation }>(
      'SELECT body FROM paso_annotations WHERE execution_id = $1 AND id = $2',
      [executionId, id],
    );
    return rows[0]?.body ?? null;
  }
}
