/**
 * A PostgreSQL database of the test's own. Given `PASO_TEST_DATABASE_URL` (a server the tests may create
 * databases on), a fresh database there; otherwise a throwaway server started from the machine's PostgreSQL
 * binaries (initdb in a temporary directory, a free port on 127.0.0.1), removed afterwards. As root (CI
 * containers), the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
}

/** A PostgreSQL server the caller may create databases on: `url` names its `postgres` database. */
export interface DatabaseServer {
  url: string;
  stop(): Promise<void>;
}

export async function testDatabase(name = `paso_test_${process.pid}_${Date.now()}`): Promise<TestDatabase> {
  const server = await databaseServer();
  try {
    return await databaseOn(server.url, name, () => server.stop());
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** `PASO_TEST_DATABASE_URL` (left running), or a throwaway server removed by `stop()`. */
export async function databaseServer(): Promise<DatabaseServer> {
  const given = process.env.PASO_TEST_DATABASE_URL;
  if (given) return { url: given, stop: () => Promise.resolve() };
  return throwawayServer();
}

/** Creates database `name` on the server; returns its URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function databaseOn(serverUrl: string, name: string, after: () => Promise<void>): Promise<TestDatabase> {
  return {
    url: await createDatabase(serverUrl, name),
    async stop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await after();
    },
  };
}

function binary(name: string): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort().reverse() : [];
  for (const v of versions) if (existsSync(path.join(root, v, 'bin', name))) return path.join(root, v, 'bin', name);
  throw new Error(
    `${name} not found: the tests need PostgreSQL's server binaries (Debian: apt-get install postgresql), ` +
      'or PASO_TEST_DATABASE_URL naming a server they may create databases on',
  );
}

async function throwawayServer(): Promise<DatabaseServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'paso-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' })
      : execFileSync(cmd, args, { stdio: 'pipe' });
  if (asRoot) {
    const { uid, gid } = userIds('postgres');
    chownSync(dir, uid, gid);
  }
  run(binary('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  run(binary('pg_ctl'), [
    '-D',
    data,
    '-l',
    path.join(dir, 'server.log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`,
    'start',
  ]);
  const stopServer = () => {
    try {
      run(binary('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return Promise.resolve();
  };
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop: stopServer };
}

function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
