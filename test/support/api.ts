/** A small HTTP client for the gateway, as a user with a token would call it. */
import { inject } from 'vitest';
import type { ExecutionStatus, ExecutionView } from '../../src/shared/execution-view.js';
import { tokenOf, type TestUser } from './users.js';

export interface Reply<T = unknown> {
  status: number;
  contentType: string;
  body: T;
  text: string;
  headers: Headers;
}

export class Api {
  constructor(
    readonly baseUrl: string = inject('pasoUrl'),
    private readonly user: TestUser | null = 'alice',
  ) {}

  as(user: TestUser | null): Api {
    return new Api(this.baseUrl, user);
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.user) h.authorization = `Bearer ${tokenOf(this.user)}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(this.baseUrl + path, { method, headers: h, body: payload });
    const text = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    const parsed = contentType.includes('json') && text ? (JSON.parse(text) as T) : (text as T);
    return { status: res.status, contentType, body: parsed, text, headers: res.headers };
  }

  get<T = unknown>(path: string) {
    return this.request<T>('GET', path);
  }

  put<T = unknown>(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request<T>('PUT', path, body, headers);
  }

  post<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }

  /** PUTs a pipeline and expects it to be accepted. */
  async pipeline(definition: { name: string } & Record<string, unknown>): Promise<number> {
    const r = await this.as('alice').put<{ version: number }>(`/pipelines/${definition.name}`, definition);
    if (r.status !== 200 && r.status !== 201) throw new Error(`PUT pipeline: ${r.status} ${r.text}`);
    return r.body.version;
  }

  /** Triggers an execution and expects it to start. */
  async trigger(pipeline: string, body: Record<string, unknown> = {}): Promise<string> {
    const r = await this.as('bob').post<{ executionId: string }>(`/pipelines/${pipeline}/executions`, body);
    if (r.status !== 201) throw new Error(`trigger: ${r.status} ${r.text}`);
    return r.body.executionId;
  }

  async execution(id: string): Promise<ExecutionView> {
    const r = await this.get<ExecutionView>(`/executions/${id}`);
    if (r.status !== 200) throw new Error(`GET execution: ${r.status} ${r.text}`);
    return r.body;
  }

  /**
   * Follows an action's log (`?follow=true`, as carol, a viewer) until the stream ends: the response, all the
   * text, and the action's status (read through this gateway) when `firstLine` arrived.
   */
  async followLog(id: string, stage: string, action: string, firstLine: string) {
    const res = await fetch(`${this.baseUrl}/executions/${id}/logs/${stage}/${action}?follow=true`, {
      headers: { authorization: `Bearer ${tokenOf('carol')}` },
    });
    let text = '';
    let statusAtFirstLine: string | null | undefined;
    if (res.ok) {
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
        if (statusAtFirstLine === undefined && text.includes(firstLine)) {
          const view = await this.execution(id);
          const step = view.stages.find((s) => s.name === stage)?.actions.find((a) => a.name === action);
          statusAtFirstLine = step?.status ?? null;
        }
      }
    }
    return { res, text, statusAtFirstLine };
  }

  /** Polls the execution until it reaches one of `statuses`. */
  async waitFor(id: string, statuses: ExecutionStatus[] = ['Succeeded', 'Failed'], timeoutMs = 45_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.execution(id);
      if (statuses.includes(view.status)) return view;
      if (Date.now() > deadline) throw new Error(`execution ${id} is ${view.status}, not ${statuses.join('|')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A pipeline name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
}
