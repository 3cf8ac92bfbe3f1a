/**
 * One contract for Paso's two stores: files (the embedded default) and PostgreSQL (PASO_DATABASE_URL). Each
 * test runs against both; the PostgreSQL one is a database of this file's own (test/support/postgres.ts).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStore } from '../../src/store/files.js';
import { postgresStore } from '../../src/store/postgres.js';
import type { PasoStore } from '../../src/store/store.js';
import type { TestDatabase } from '../support/postgres.js';
import { testDatabase } from '../support/postgres.js';

let database: TestDatabase;
const stores: Record<string, PasoStore> = {};

beforeAll(async () => {
  database = await testDatabase();
  // Two processes opening the store at once: the migrations are applied once, neither fails.
  const [first, second] = await Promise.all([postgresStore(database.url), postgresStore(database.url)]);
  await second.close();
  stores.postgres = first;
  stores.files = fileStore(mkdtempSync(path.join(os.tmpdir(), 'paso-store-')));
}, 60_000);
afterAll(async () => {
  await Promise.all(Object.values(stores).map((s) => s.close()));
  await database?.stop();
});

describe.each(['files', 'postgres'])('the %s store', (kind) => {
  const store = () => stores[kind]!;
  let n = 0;
  const execution = () => `contract-${kind}-${++n}`;

  it('appends a log in pieces and reads it back from any offset', async () => {
    const key = `${execution()}/Build/compile`;
    expect(await store().logs.size(key)).toBe(0);
    expect((await store().logs.read(key, 0, 100)).length).toBe(0);
    await store().logs.append(key, 0, Buffer.from('hello '));
    await store().logs.append(key, 6, Buffer.from('world\n'));
    // A retried append of the same piece changes nothing.
    await store().logs.append(key, 6, Buffer.from('world\n'));
    expect(await store().logs.size(key)).toBe(12);
    expect((await store().logs.read(key, 0, 100)).toString()).toBe('hello world\n');
    expect((await store().logs.read(key, 3, 5)).toString()).toBe('lo wo');
    expect((await store().logs.read(key, 12, 100)).length).toBe(0);
  });

  it('keeps annotations in order, once per id, with their files stored once by content', async () => {
    const id = execution();
    const first = await store().annotations.add(id, { kind: 'comment', text: 'first', by: 'alice' });
    const again = await store().annotations.add(id, { kind: 'chat', text: 'said once', by: 'bob', id: 'chat-C1-1' });
    const twice = await store().annotations.add(id, { kind: 'chat', text: 'said twice', by: 'bob', id: 'chat-C1-1' });
    expect(twice).toEqual(again);
    const content = Buffer.from('the release notes\n');
    const withFile = await store().annotations.add(
      id,
      { kind: 'attachment', by: 'alice' },
      { name: 'notes.txt', contentType: 'text/plain', content },
    );
    expect((await store().annotations.list(id)).map((a) => a.id)).toEqual([first.id, 'chat-C1-1', withFile.id]);
    const opened = await store().annotations.openFile(id, withFile.id);
    expect(opened?.size).toBe(content.length);
    expect(opened?.annotation.file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await text(opened!.stream)).toBe('the release notes\n');
    expect(await store().annotations.openFile(id, first.id)).toBeNull();
    expect(await store().annotations.openFile(id, 'no-such-annotation')).toBeNull();
    expect(await store().annotations.list('not an execution')).toEqual([]);
  });
});
