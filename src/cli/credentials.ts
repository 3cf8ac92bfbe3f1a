/**
 * Where `paso` finds its gateway and token: flags, then `PASO_URL`/`PASO_TOKEN`, then the file `paso login`
 * wrote (`$XDG_CONFIG_HOME/paso/credentials.json`, else `~/.config/paso/credentials.json`).
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExitCode } from './exit-codes.js';
import { CliError, UsageError } from './errors.js';

/** Where `npm start` serves the gateway: the default when nothing else says. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Credentials {
  url: string;
  token: string;
}

/** The credentials file's path, from the environment given (a test gives its own HOME). */
export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'paso', 'credentials.json');
}

/** The stored credentials, or nothing when there is no file. A file that is not ours is an error. */
export async function readCredentials(file: string): Promise<Partial<Credentials>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const { url, token } = JSON.parse(text) as Partial<Credentials>;
    return { ...(typeof url === 'string' ? { url } : {}), ...(typeof token === 'string' ? { token } : {}) };
  } catch {
    throw new CliError(`${file} is not valid JSON: run \`paso login\` again`);
  }
}

/**
 * Writes the file readable by its owner only. Written beside it and renamed, so that a token is never in a
 * file with a wider mode, not even for a moment, and an old file's mode does not carry over.
 */
export async function writeCredentials(file: string, credentials: Credentials): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  // The umask may have narrowed the mode, never widened it; still, say exactly what we mean.
  await chmod(temp, 0o600);
  await rename(temp, file);
}

/** Removes the file; true when there was one. */
export async function removeCredentials(file: string): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** The gateway's URL, checked, without a trailing slash. */
export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: "${url}" (expected e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`not an http(s) URL: "${url}"`);
  }
  return parsed.href.replace(/\/+$/, '');
}

export interface CredentialSources {
  flags: { url?: string; token?: string };
  env: NodeJS.ProcessEnv;
}

/** The URL and token to use, the first found of flags, environment and file. */
export async function resolveCredentials({ flags, env }: CredentialSources): Promise<Credentials> {
  const needFile = !(flags.url || env.PASO_URL) || !(flags.token || env.PASO_TOKEN);
  const stored = needFile ? await readCredentials(credentialsFile(env)) : {};
  const url = normalizeUrl(flags.url || env.PASO_URL || stored.url || DEFAULT_URL);
  const token = flags.token || env.PASO_TOKEN || stored.token;
  if (!token) {
    throw new CliError('no token', ExitCode.Unauthorized, ['Pass --token, set PASO_TOKEN, or run `paso login`.']);
  }
  return { url, token };
}
