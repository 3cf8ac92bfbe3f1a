/**
 * The gateway's view of its own requests: a request id (the caller's `X-Request-Id` when it is a sane token,
 * else a new UUID; echoed in the response), one log event per request, and the HTTP metrics by route
 * template (`/executions/:id/approvals`, never the id itself) and status.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { logger } from '../log.js';
import { httpDuration, httpRequests } from './metrics.js';

const log = logger.child({ component: 'http' });
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface Matched {
  route: string;
  pipeline?: string;
  executionId?: string;
  stage?: string;
  action?: string;
}
const matched = new WeakMap<Request, Matched>();

/**
 * The route template of the request: `req.route` with the base URL of the router that matched it, caught when
 * the router dispatches (once the request has left that router, Express has put `req.baseUrl` back).
 * `unmatched` for 404s and for requests refused before routing (authentication).
 */
export function routeOf(req: Request): string {
  return matched.get(req)?.route ?? 'unmatched';
}

function watchRoute(req: Request): void {
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: { path?: unknown } | undefined) {
      route = value;
      if (typeof value?.path !== 'string') return;
      const params = req.params as Record<string, string | undefined>;
      const id = params.id;
      matched.set(req, {
        route: `${req.baseUrl}${value.path}` || '/',
        pipeline: params.name,
        executionId: id,
        stage: params.stage,
        action: params.action,
      });
    },
  });
}

/** Requests too frequent and too dull to log at info: probes and scrapes. */
const QUIET = new Set(['/healthz', '/metrics']);

export function requestIds(): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    next();
  };
}

/** Logs and measures each request when its response is sent (or the connection closes first). */
export function observeRequests(): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    watchRoute(req);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      const status = res.headersSent ? String(res.statusCode) : 'aborted';
      httpRequests.inc({ method: req.method, route, status });
      httpDuration.observe({ method: req.method, route, status }, seconds);
      const m = matched.get(req);
      const fields = {
        reqId: requestIdOf(res),
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1000),
        ...(m?.pipeline ? { pipeline: m.pipeline } : {}),
        ...(m?.executionId ? { executionId: m.executionId } : {}),
        ...(m?.stage ? { stage: m.stage } : {}),
        ...(m?.action ? { action: m.action } : {}),
      };
      if (QUIET.has(req.path)) log.debug(fields, 'http request');
      else log.info(fields, 'http request');
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };
}

export function requestIdOf(res: Response): string | undefined {
  return typeof res.locals.requestId === 'string' ? res.locals.requestId : undefined;
}
