/**
 * The HTTP client of the gateway, as the CLI uses it: bearer token, JSON in and out, problem+json answers
 * turned into `ApiError`s and failed connections into `UnreachableError`s. Nothing else talks to the network.
 */
import { ApiError, UnreachableError, type Problem } from './errors.js';
import type { Credentials } from './credentials.js';

export interface RequestOptions {
  /** A JSON body (serialized here), or a ready body with its `contentType` (YAML text, a form). */
  json?: unknown;
  body?: string | FormData;
  contentType?: string;
  query?: Record<string, string | undefined>;
  /** Milliseconds before giving up; none for streams that end when the server says. */
  timeoutMs?: number | null;
}

/** How long a plain request may take: a trigger waits for CHECK, which runs commands. */
const DEFAULT_TIMEOUT_MS = 5 * 60_000;

export class PasoClient {
  constructor(private readonly credentials: Credentials) {}

  get url(): string {
    return this.credentials.url;
  }

  /** Sends a request; any answer but 2xx is thrown as an `ApiError`. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.credentials.token}` };
    let body: string | FormData | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.contentType) headers['content-type'] = options.contentType;
    const timeoutMs = options.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : options.timeoutMs;
    let res: Response;
    try {
      res = await fetch(this.href(path, options.query), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(timeoutMs !== null ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
      });
    } catch (err) {
      throw new UnreachableError(this.credentials.url, networkReason(err));
    }
    if (!res.ok) throw new ApiError(await problemOf(res));
    return res;
  }

  /** Sends a request and parses its JSON answer. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, options);
    return (await res.json()) as T;
  }

  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
    return this.json<T>('GET', path, query ? { query } : {});
  }

  post<T>(path: string, json: unknown): Promise<T> {
    return this.json<T>('POST', path, { json });
  }

  private href(path: string, query: RequestOptions['query']): string {
    const url = new URL(this.credentials.url + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    return url.href;
  }
}

/** A path segment: names and ids go into URLs escaped. */
export const seg = (value: string): string => encodeURIComponent(value);

/** Why fetch failed, in the words of the system (ECONNREFUSED 127.0.0.1:1, ENOTFOUND host, a timeout). */
function networkReason(err: unknown): string {
  if (err instanceof DOMException && err.name === 'TimeoutError') return 'no answer in time';
  const cause = (err as { cause?: unknown }).cause;
  for (const e of [cause, ...((cause as { errors?: unknown[] } | undefined)?.errors ?? [])]) {
    const { code, address, port } = (e ?? {}) as { code?: string; address?: string; port?: number };
    if (code) return address ? `${code} ${address}${port ? `:${port}` : ''}` : code;
  }
  return cause instanceof Error ? cause.message : (err as Error).message;
}

/** The problem an error answer describes; an answer that is not problem+json (a proxy's page) is described. */
async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      const p = JSON.parse(text) as Partial<Problem>;
      if (typeof p.title === 'string' || typeof p.detail === 'string') {
        return { ...p, title: p.title ?? res.statusText, status: res.status, detail: p.detail ?? '' };
      }
    } catch {
      // Not JSON after all: described from the text below.
    }
  }
  return { title: res.statusText || 'Error', status: res.status, detail: text.trim().slice(0, 300) };
}
