/**
 * The gateway's edge off the happy path (issue 15, items 1, 10, 13, 16, 18): attachments a viewer reads and
 * where they are kept, bad input of every kind answered as a 400 problem (and generated input never a 5xx),
 * the development users kept off the network, and how fast the gateway answers again after Temporal is back.
 * Over real HTTP, against the suite's gateway or a gateway process of the test's own.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, statSync, type Dirent } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Api, uniqueName } from '../support/api.js';
import { PasoProcess } from '../support/paso-process.js';
import { freePort } from '../support/ports.js';
import { rawRequest, type RawReply, type RawRequest } from '../support/raw-http.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { tokenOf, type TestUser } from '../support/users.js';

const api = new Api();
const baseUrl = inject('pasoUrl');
const dataDir = inject('dataDir');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const auth = (user: TestUser) => ({ authorization: `Bearer ${tokenOf(user)}` });
const send = (req: RawRequest) => rawRequest(baseUrl, req);

function expectProblem(reply: RawReply, status: number) {
  expect({ status: reply.status, text: reply.text }).toMatchObject({ status });
  expect(reply.contentType).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(reply.text) as { status: number; title: string; detail: string };
  expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  return body;
}

/** A multipart/form-data body with one file field, as browsers and curl send it. */
function multipart(boundary: string, file: { name: string; content: Buffer }, text?: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      text === undefined ? '' : `--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n${text}\r\n`,
    ),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    ),
    file.content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
}

async function upload(id: string, content: Buffer): Promise<{ annotationId: string; sha256: string }> {
  const boundary = `paso-${randomUUID()}`;
  const reply = await send({
    method: 'POST',
    path: `/executions/${id}/annotations`,
    headers: { ...auth('bob'), 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: multipart(boundary, { name: 'notes.txt', content }, 'notes'),
  });
  expect(reply.status, reply.text).toBe(201);
  return { annotationId: (JSON.parse(reply.text) as { id: string }).id, sha256: sha256(content) };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One pipeline and one ended execution, shared by the tests that need a real execution id. */
let executionId: string;
beforeAll(async () => {
  const name = uniqueName('hardening');
  await api.pipeline({ name, stages: [{ name: 'S', actions: [{ name: 'a', type: 'command', run: 'true' }] }] });
  executionId = await api.trigger(name);
  await api.waitFor(executionId);
});

describe('attachments', () => {
  /** Appends annotation lines to an execution's JSONL file, as anyone with write access to the disk could. */
  const plant = (file: string, ...lines: unknown[]) => {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  };
  const planted = (id: string, sha: string) => ({
    id,
    kind: 'attachment',
    file: { name: 'x.txt', size: 10, sha256: sha, contentType: 'text/plain' },
    by: 'mallory',
    at: new Date().toISOString(),
  });
  const download = (id: string, annotationId: string) =>
    send({ method: 'GET', path: `/executions/${id}/annotations/${annotationId}/file`, headers: auth('carol') });

  it('are stored readable by Paso alone and never executable, outside the commands’ workspaces and PATH', async () => {
    const content = Buffer.from(`#!/bin/sh\necho planted ${randomUUID()}\n`);
    const { annotationId, sha256: sha } = await upload(executionId, content);
    const file = path.join(dataDir, 'attachments', sha);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(path.relative(path.join(dataDir, 'workspaces'), file)).toMatch(/^\.\.\//);

    const back = await download(executionId, annotationId);
    expect(back.status).toBe(200);
    expect(back.text).toBe(content.toString());
  });

  it('a viewer reads only files of the attachments directory, whatever the ids and stored hashes say', async () => {
    const content = Buffer.from(`a real attachment ${randomUUID()}\n`);
    const { annotationId, sha256: sha } = await upload(executionId, content);
    const jsonl = path.join(dataDir, 'annotations', `${executionId}.jsonl`);
    plant(jsonl, planted('planted-traversal', '../../../../etc/passwd'), planted('planted-abs', '/etc/passwd'));

    for (const aid of ['planted-traversal', 'planted-abs']) {
      const reply = await download(executionId, aid);
      expectProblem(reply, 404);
      expect(reply.text).not.toContain('root:');
    }

    // An execution id with %2F reaches outside `annotations/` unless it is checked: plant a list there.
    const outside = `planted-${randomUUID()}`;
    plant(path.join(dataDir, `${outside}.jsonl`), { ...planted('outside', sha) });
    expectProblem(await download(`..%2F${outside}`, 'outside'), 404);
    expectProblem(await download(`..%2F..%2F..%2F..%2Fetc%2Fpasswd`, 'x'), 404);
    expectProblem(await download(executionId, `..%2F..%2F${annotationId}`), 404);
    expectProblem(await download(executionId, '%2E%2E'), 404);

    // The real one still comes back whole, as a download the browser does not sniff.
    const good = await send({
      method: 'GET',
      path: `/executions/${executionId}/annotations/${annotationId}/file`,
      headers: auth('carol'),
    });
    expect(good.status).toBe(200);
    expect(good.text).toBe(content.toString());
  });

  it('a missing or unreadable attachment file answers 404 and the gateway stays up', async () => {
    const jsonl = path.join(dataDir, 'annotations', `${executionId}.jsonl`);
    const missing = 'f'.repeat(64);
    // A directory where a file should be: it opens, and fails on the first read.
    const dirSha = sha256(Buffer.from(randomUUID()));
    mkdirSync(path.join(dataDir, 'attachments', dirSha), { recursive: true });
    plant(jsonl, planted('planted-missing', missing), planted('planted-dir', dirSha), 'not json {');

    expectProblem(await download(executionId, 'planted-missing'), 404);
    expect((await api.as(null).get('/healthz')).status).toBe(200);
    expectProblem(await download(executionId, 'planted-dir'), 404);
    expect((await api.as(null).get('/healthz')).status).toBe(200);
    // A torn line (a write cut short) does not hide the rest of the list.
    const listed = await api.as('carol').get<{ id: string }[]>(`/executions/${executionId}/annotations`);
    expect(listed.status).toBe(200);
    expect(listed.body.map((a) => a.id)).toContain('planted-missing');
  });
});

describe('bad input is a 400 problem, never a 500', () => {
  it('a bad %-escape in any path segment', async () => {
    for (const p of [
      '/executions/%ZZ',
      '/executions/%C0%AE',
      '/pipelines/%E0%A4%A',
      '/executions/%ZZ/annotations',
      '/executions/x-1/logs/%ZZ/a',
      '/pipelines/%/executions',
    ]) {
      expectProblem(await send({ method: 'GET', path: p, headers: auth('alice') }), 400);
    }
    expectProblem(
      await send({ method: 'POST', path: '/pipelines/%C0%AE/executions', headers: auth('bob'), body: '{}' }),
      400,
    );
  });

  it('a body that does not match its Content-Encoding', async () => {
    const json = JSON.stringify({ variables: {} });
    const put = (encoding: string, body: Buffer | string) =>
      send({
        method: 'POST',
        path: `/pipelines/${uniqueName('nope')}/executions`,
        headers: { ...auth('bob'), 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
    expectProblem(await put('gzip', json), 400);
    expectProblem(await put('br', json), 400);
    expectProblem(await put('deflate', json), 400);
    expectProblem(await put('gzip', gzipSync(json).subarray(0, 12)), 400);
    expectProblem(await put('gzip', deflateSync(json)), 400);
    // Well-formed compressed bodies are read as usual (the pipeline does not exist).
    expectProblem(await put('gzip', gzipSync(json)), 404);
    expectProblem(await put('br', brotliCompressSync(json)), 404);
    // The Slack endpoint reads its raw body the same way.
    expectProblem(
      await send({
        method: 'POST',
        path: '/chatops/slack/events',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: json,
      }),
      400,
    );
  });

  it('a truncated or malformed multipart upload', async () => {
    const boundary = `paso-${randomUUID()}`;
    const full = multipart(boundary, { name: 'big.txt', content: Buffer.alloc(64 * 1024, 'x') });
    const post = (body: Buffer, contentType = `multipart/form-data; boundary=${boundary}`) =>
      send({
        method: 'POST',
        path: `/executions/${executionId}/annotations`,
        headers: { ...auth('bob'), 'content-type': contentType },
        body,
      });
    expect(expectProblem(await post(full.subarray(0, full.length - 1000)), 400).detail).toMatch(/form/i);
    expectProblem(await post(Buffer.from('--nope\r\n\r\n')), 400);
    expectProblem(await post(full, 'multipart/form-data'), 400);
    expect((await api.as(null).get('/healthz')).status).toBe(200);
  });

  it(
    'generated requests over every route: no 5xx but 503, every error a problem, nothing written outside the data directory',
    { timeout: 240_000 },
    async () => {
      // PASO_FUZZ_SEED and PASO_FUZZ_COUNT replay a failing run or search further.
      const seed = Number(process.env.PASO_FUZZ_SEED ?? 15_016);
      const workDir = inject('workDir'); // the data directory's parent: the suite's config, Temporal's files, logs
      const outside = () => new Set(listTree(workDir).filter((p) => !p.startsWith(path.relative(workDir, dataDir))));
      const before = outside();
      const started = Date.now();
      const { failures, statuses } = await fuzz(seed, Number(process.env.PASO_FUZZ_COUNT ?? 2_500));
      const total = Object.values(statuses).reduce((a, b) => a + b, 0);
      console.log(
        `${total} generated requests (seed ${seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s: answers ` +
          `${JSON.stringify(statuses)}, ${failures.length} failures`,
      );
      expect(failures).toEqual([]);
      expect((await api.as(null).get('/healthz')).status).toBe(200);
      expect([...outside()].filter((p) => !before.has(p))).toEqual([]);
      const canaries = [workDir, os.tmpdir(), process.cwd()].flatMap((d) =>
        listTree(d, 3).filter((p) => p.includes(`fuzz-canary-${seed}`)),
      );
      expect(canaries).toEqual([]);
    },
  );
});

describe('failed authentications', () => {
  it('are limited per client address: 429 with Retry-After, for every token from it, until it may try again', async () => {
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-auth-limit-'));
    const gateway = await PasoProcess.startGateway({
      temporalAddress: inject('temporalAddress'),
      dataDir: workDir,
      configFile: inject('configFile'),
      taskQueue: 'paso-test',
      logFile: path.join(workDir, 'gateway.log'),
      // 30 failures in a burst, then one every 2 s; X-Forwarded-For is trusted from loopback (a local proxy).
      env: { PASO_AUTH_FAILURES_PER_MINUTE: '30', PASO_TRUST_PROXY: 'loopback' },
    });
    try {
      const get = (token: string, from: string) =>
        rawRequest(gateway.url, {
          method: 'GET',
          path: '/pipelines',
          headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': from },
        });
      // An address that never fails is never slowed.
      for (let i = 0; i < 50; i++) expect((await get(tokenOf('carol'), '10.0.0.1')).status).toBe(200);

      const guesses: number[] = [];
      for (let i = 0; i < 40; i++) guesses.push((await get(`guess-${i}`, '10.0.0.2')).status);
      expect(guesses.slice(0, 30)).toEqual(Array(30).fill(401));
      expect(new Set(guesses.slice(30))).toEqual(new Set([429]));
      const limited = await get(tokenOf('carol'), '10.0.0.2'); // a right token from there: refused too
      const problem = expectProblem(limited, 429);
      expect(problem.detail).toMatch(/too many failed authentications from 10\.0\.0\.2/);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);

      // Another address is not affected; the limited one may try again once Retry-After has passed.
      expect((await get(tokenOf('carol'), '10.0.0.3')).status).toBe(200);
      await sleep(retryAfter * 1000 + 100);
      expect((await get(tokenOf('carol'), '10.0.0.2')).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});

describe('the development users', () => {
  it('are refused on a non-loopback bind, with what to do', async () => {
    const { execa } = await import('execa');
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'paso-devusers-'));
    const result = await execa(process.execPath, [path.resolve('dist/src/gateway.js')], {
      cwd,
      env: { PATH: process.env.PATH, PASO_HOST: '0.0.0.0', PASO_PORT: String(await freePort()), PASO_DATA_DIR: cwd },
      extendEnv: false,
      reject: false,
      timeout: 20_000,
    });
    expect(result.exitCode, result.stdout).toBe(1);
    expect(result.stderr).toMatch(/PASO_HOST=0\.0\.0\.0/);
    expect(result.stderr).toMatch(/PASO_CONFIG/);
  });
});

describe('after Temporal comes back', () => {
  let proxy: TcpProxy;
  let gateway: PasoProcess;
  beforeAll(async () => {
    proxy = await TcpProxy.start(inject('temporalAddress'));
    const workDir = mkdtempSync(path.join(os.tmpdir(), 'paso-reconnect-'));
    gateway = await PasoProcess.startGateway({
      temporalAddress: proxy.address,
      dataDir: workDir,
      configFile: inject('configFile'),
      taskQueue: 'paso-test',
      logFile: path.join(workDir, 'gateway.log'),
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await proxy?.close();
  });

  it('the gateway answers again within about a second', { timeout: 120_000 }, async () => {
    const remote = new Api(gateway.url);
    await expect.poll(async () => (await remote.get('/pipelines')).status, { timeout: 20_000 }).toBe(200);

    // Users keep asking, every 100 ms, whatever the answers take.
    const answers: { at: number; status: number }[] = [];
    const ask = () =>
      remote.get('/pipelines').then(
        (r) => answers.push({ at: Date.now(), status: r.status }),
        () => answers.push({ at: Date.now(), status: 0 }),
      );
    const timer = setInterval(() => void ask(), 100);
    try {
      proxy.cut();
      const cutAt = Date.now();
      // Long enough for a client's reconnect backoff to grow (gRPC's default: 1 s, x1.6 per failed attempt).
      while (Date.now() - cutAt < 6_000 || proxy.refusedSinceCut < 4) await sleep(100);
      expect(answers.filter((a) => a.at > cutAt).map((a) => a.status)).toContain(503);
      expect(answers.some((a) => a.at > cutAt && a.status >= 500 && a.status !== 503)).toBe(false);

      // Temporal answers again right after the gateway tried: the worst moment for a backing-off client.
      await once(proxy, 'refused');
      proxy.restore();
      const restoredAt = Date.now();
      const deadline = restoredAt + 30_000;
      let back: { at: number } | undefined;
      while (!(back = answers.find((a) => a.at > restoredAt && a.status === 200)) && Date.now() < deadline) {
        await sleep(20);
      }
      expect(back, 'the gateway never answered 200 again').toBeDefined();
      const recovery = back!.at - restoredAt;
      console.log(
        `gateway answered 200 ${recovery} ms after Temporal was reachable again ` +
          `(cut ${restoredAt - cutAt} ms, ${proxy.refusedSinceCut} reconnect attempts refused)`,
      );
      expect(recovery).toBeLessThan(3_000);
    } finally {
      clearInterval(timer);
    }
  });
});

/**
 * Sends `count` seeded random requests; returns a line per answer that is a 5xx (not 503) or an error that is
 * not a problem, and how many answers had each status.
 */
/**
 * Generated requests (fast-check): routes × tokens × methods × content types and encodings × bodies (malformed,
 * huge, deeply nested, with NUL and any Unicode, multipart cut anywhere) × path segments (traversal, bad
 * %-escapes, ids, stage and action names). One property: every answer is a problem, and none is a 5xx but 503.
 * Traversal segments aim at files named `fuzz-canary-*`; the caller checks none was written.
 */
async function fuzz(seed: number, count: number): Promise<{ failures: string[]; statuses: Record<number, number> }> {
  const boundary = 'fuzzboundary';
  const form = multipart(boundary, { name: 'f.txt', content: Buffer.from('hello') }, 'hi');
  const canary = `fuzz-canary-${seed}`;
  const segment = fc.oneof(
    fc.constantFrom(
      'fuzz-nope',
      'fuzz-nope-1',
      executionId,
      'no-such-1',
      '%ZZ',
      '%C0%AE',
      '%E0%A4%A',
      '%',
      '%2F',
      '..',
      '%2e%2e',
      '.',
      'a%00b',
      '%FF%FE',
      '%F0%9F%98%80',
      'A'.repeat(300),
      'S',
      'a',
      'a.rollback',
      `..%2F..%2F..%2F${canary}`,
      `%2E%2E%2F%2E%2E%2F${canary}`,
      `....%2F%2F${canary}`,
      `${executionId}%2F..%2F..%2F${canary}`,
    ),
    fc.constant(executionId),
    fc.string({ unit: 'binary', maxLength: 24 }).map((t) => encodeURIComponent(t)),
    fc.string({ maxLength: 16 }).map((t) => encodeURIComponent(t).replaceAll('%25', '%')),
  );
  const route = fc.oneof(
    fc.constantFrom('/healthz', '/openapi.json', '/pipelines'),
    segment.map((a) => `/pipelines/${a}`),
    segment.map((a) => `/pipelines/${a}/state`),
    fc.tuple(segment, segment).map(([a, b]) => `/pipelines/${a}/transitions/${b}`),
    segment.map((a) => `/pipelines/${a}/executions`),
    segment.map((a) => `/executions/${a}`),
    segment.map((a) => `/executions/${a}/annotations`),
    fc.tuple(segment, segment).map(([a, b]) => `/executions/${a}/annotations/${b}/file`),
    segment.map((a) => `/executions/${a}/timeline`),
    fc
      .tuple(segment, fc.constantFrom('stop', 'retry', 'approvals', 'resume', 'trap', 'talkback'))
      .map(([a, b]) => `/executions/${a}/${b}`),
    fc.tuple(segment, segment, segment).map(([a, b, c]) => `/executions/${a}/logs/${b}/${c}`),
    fc.constant('/chatops/slack/events'),
    segment.map((a) => `/chatops/slack/${a}`),
    fc.tuple(segment, segment).map(([a, b]) => `/${a}/${b}`),
  );
  const query = fc.constantFrom(
    '',
    '',
    '',
    '?limit=abc',
    '?status=Nope&limit=0',
    '?limit=1&limit=2',
    '?a[b]=1&%ZZ=%ZZ',
    '?x=%',
    '?follow=true',
    '?follow=yes',
  );
  const body: fc.Arbitrary<Buffer | string | undefined> = fc.oneof(
    fc.constantFrom(
      undefined,
      '{}',
      '{"kind":"comment","text":"fuzz"}',
      '{"kind":"comment","text":"a\u0000b\u202e\ud83d\ude00"}',
      '{"variables":{"A":"1"},"idempotencyKey":"k"}',
      '{"enabled":false}',
      '{"type":"url_verification","challenge":"c"}',
      '{"stage":"S","action":"a","decision":"approve"}',
      '{"stage":"S","mode":"ALL_ACTIONS"}',
      'null',
      '[',
      '{"a":',
      'name: fuzz\nstages: [',
      'a=1&b=%ZZ',
      '\u0000\u0000',
      '['.repeat(20_000),
      `{"text":"${'x'.repeat(2 * 1024 * 1024)}"}`,
      `{"name":"fuzz","stages":[{"name":"S","actions":[{"name":"../${canary}","type":"command","run":"true"}]}]}`,
    ),
    fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.constantFrom(
      gzipSync('{}'),
      gzipSync('{"kind":"comment","text":"x"}').subarray(0, 15),
      brotliCompressSync('{}'),
      form,
    ),
    fc.nat({ max: form.length }).map((n) => form.subarray(0, n)),
  );
  const header = <T>(values: readonly T[]) => fc.constantFrom(...values);
  const request: fc.Arbitrary<RawRequest> = fc
    .record({
      method: header(['GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']),
      route,
      query,
      body,
      user: header<TestUser | 'stranger' | null>(['alice', 'bob', 'carol', null, 'stranger']),
      contentType: header([
        undefined,
        'application/json',
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=bogus',
        'application/yaml',
        'text/plain',
        `multipart/form-data; boundary=${boundary}`,
        'multipart/form-data',
        'multipart/mixed; boundary=x',
        'application/x-www-form-urlencoded',
        'application/octet-stream',
        'garbage',
      ]),
      encoding: header([undefined, undefined, undefined, 'gzip', 'br', 'deflate', 'identity', 'x-bogus', 'gzip, br']),
      slackSigned: fc.boolean(),
    })
    .map((r) => {
      const headers: Record<string, string> = {};
      if (r.user === 'stranger') headers.authorization = 'Bearer not-a-token';
      else if (r.user) Object.assign(headers, auth(r.user));
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.encoding) headers['content-encoding'] = r.encoding;
      if (r.slackSigned) {
        headers['x-slack-request-timestamp'] = String(Math.floor(Date.now() / 1000));
        headers['x-slack-signature'] = `v0=${'0'.repeat(64)}`;
      }
      const b = r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body;
      return { method: r.method, path: r.route + r.query, headers, ...(b === undefined ? {} : { body: b }) };
    });

  const failures: string[] = [];
  const statuses: Record<number, number> = {};
  const describeRequest = (req: RawRequest) =>
    `${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers)} body ${String(req.body ?? '').slice(0, 80)}`;
  await fc
    .assert(
      fc.asyncProperty(request, async (req) => {
        let reply: RawReply;
        try {
          reply = await send(req);
        } catch (err) {
          failures.push(`${describeRequest(req)} → no answer: ${(err as Error).message}`);
          return false;
        }
        statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
        if (reply.status >= 500 && reply.status !== 503) {
          failures.push(`${describeRequest(req)} → ${reply.status} ${reply.text.slice(0, 300)}`);
          return false;
        }
        if (reply.status >= 400 && req.method !== 'HEAD' && !reply.contentType.startsWith('application/problem+json')) {
          failures.push(`${describeRequest(req)} → ${reply.status} ${reply.contentType}`);
          return false;
        }
        return true;
      }),
      // fast-check shrinks a failure to its smallest request; the failures list keeps every one seen.
      { seed, numRuns: count, endOnFailure: false },
    )
    .catch((err: unknown) => failures.push(String(err).slice(0, 2000)));
  return { failures, statuses };
}

/** Every path under `dir` (depth-limited), relative to it. */
function listTree(dir: string, depth = 6, prefix = ''): string[] {
  if (depth < 0) return [];
  let entries: Dirent[];
  try {
    entries = readdirSync(path.join(dir, prefix), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const rel = path.join(prefix, e.name);
    return [rel, ...(e.isDirectory() ? listTree(dir, depth - 1, rel) : [])];
  });
}
