/**
 * The web console, served by the gateway under `/ui`: server-rendered pages, a session cookie instead of a
 * bearer token, and `/ui/api` — the very same API routers behind the session (so every decision goes through
 * the one `Paso` service and its rights checks). Pages follow changes made anywhere through server-sent
 * events (`/ui/events`): the page's data is read again every second and a change tells the browser to
 * re-render.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { User } from '../../config.js';
import { projectRoot } from '../../temporal/cli.js';
import { clientAddress, refuseWhileLimited, tokenMatcher, type AuthFailureLimiter } from '../auth.js';
import type { Paso } from '../paso.js';
import { HttpProblem, toProblem } from '../problem.js';
import { executionsRouter } from '../routes/executions.js';
import { locksRouter } from '../routes/locks.js';
import { peopleRouter } from '../routes/people.js';
import { pipelinesRouter } from '../routes/pipelines.js';
import type { PasoStore } from '../../store/store.js';
import { ConsoleData } from './data.js';
import { renderPage, type PageShell } from './html.js';
import {
  errorPage,
  executionPage,
  locksPage,
  logPage,
  loginPage,
  pipelinePage,
  pipelinesPage,
  waitingPage,
} from './pages.js';
import { sameOrigin, Sessions, type Session } from './session.js';

export interface ConsoleOptions {
  paso: Paso;
  store: PasoStore;
  users: readonly User[];
  limiter: AuthFailureLimiter | null;
  sessionSecret: string | undefined;
  /** Cookies only over HTTPS: when people reach the gateway by an https:// address. */
  secureCookies: boolean;
  temporalUiUrl: string | null;
  namespace: string;
}

/** How often a live page's data is read again for changes. */
const LIVE_INTERVAL_MS = 1_000;

type Loaded = Omit<PageShell, 'user' | 'csrfToken' | 'live'>;
type PageLoader = (user: User, params: Record<string, string>, query: Record<string, string>) => Promise<Loaded>;

export function consoleRouter(options: ConsoleOptions): Router {
  const { paso, store, users, limiter } = options;
  const sessions = new Sessions(users, options.sessionSecret, options.secureCookies);
  const userFor = tokenMatcher(users);
  const data = new ConsoleData({ paso, store, temporalUiUrl: options.temporalUiUrl, namespace: options.namespace });
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '16kb' });

  const assets = loadAssets();
  router.get('/ui/assets/:file', (req, res) => {
    const asset = assets.get(req.params.file);
    if (!asset) throw new HttpProblem(404, 'no such asset');
    res.type(asset.type).set('Cache-Control', 'no-cache').set('ETag', asset.etag);
    if (req.get('if-none-match') === asset.etag) return void res.status(304).end();
    res.send(asset.body);
  });

  router.get('/ui/login', (req, res) => {
    const next = safeNext(req.query.next);
    if (sessions.read(req)) return res.redirect(303, next);
    sendPage(res, 200, { title: 'Sign in', section: 'login', body: loginPage({ next, error: null }) }, null);
  });

  router.post('/ui/login', form, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const next = safeNext(body.next);
    // Login CSRF: only this gateway's own sign-in page may sign someone in.
    if (!sameOrigin(req)) throw new HttpProblem(403, 'sign in from Paso’s own page');
    const address = clientAddress(req);
    refuseWhileLimited(limiter, address);
    const user = typeof body.token === 'string' ? userFor(body.token.trim()) : undefined;
    if (!user) {
      limiter?.failed(address);
      const login = loginPage({ next, error: 'That token is not one Paso knows.' });
      return sendPage(res, 401, { title: 'Sign in', section: 'login', body: login }, null);
    }
    sessions.start(res, user);
    res.redirect(303, next);
  });

  router.post('/ui/logout', form, (req, res) => {
    const session = sessions.read(req);
    const token = ((req.body ?? {}) as Record<string, unknown>).csrf;
    if (session && !sessions.csrfMatches(session, token)) throw new HttpProblem(403, 'sign out from Paso’s own page');
    sessions.end(req, res);
    res.redirect(303, '/ui/login');
  });

  // The API, behind the session and its CSRF token; answers and problems exactly as the bearer-token API's.
  const api = Router();
  api.use(peopleRouter(paso));
  api.use('/pipelines', pipelinesRouter(paso));
  api.use('/executions', executionsRouter(paso, store));
  api.use('/locks', locksRouter(paso));
  router.use('/ui/api', sessions.middleware(), api);

  const pages: { pattern: RegExp; names: string[]; load: PageLoader }[] = [];
  const page = (route: string, load: PageLoader) => {
    const names: string[] = [];
    const source = route.replace(/:(\w+)/g, (_m, name: string) => (names.push(name), '([^/]+)'));
    pages.push({ pattern: new RegExp(`^${source}/?$`), names, load });
    router.get(route, (req, res, next) => {
      const session = sessions.read(req);
      if (!session) return res.redirect(303, `/ui/login?next=${encodeURIComponent(req.originalUrl)}`);
      load(session.user, req.params as Record<string, string>, req.query as Record<string, string>)
        .then((loaded) => sendPage(res, 200, loaded, session, req.get('x-paso-partial') === '1'))
        .catch(next);
    });
  };

  page('/ui', async (user) => ({
    title: 'Waiting for me',
    section: 'waiting',
    body: waitingPage({ decisions: await data.waitingFor(user), now: Date.now() }),
  }));
  page('/ui/pipelines', async () => ({
    title: 'Pipelines',
    section: 'pipelines',
    body: pipelinesPage({ pipelines: await data.pipelines() }),
  }));
  page('/ui/locks', async () => ({
    title: 'Locks',
    section: 'locks',
    body: locksPage({ locks: await paso.locks() }),
  }));
  page('/ui/pipelines/:name', async (user, { name }, query) => ({
    title: name!,
    section: 'pipelines',
    body: pipelinePage(await data.pipeline(user, name!, query)),
  }));
  page('/ui/executions/:id', async (user, { id }) => ({
    title: id!,
    section: 'execution',
    body: executionPage(await data.execution(user, id!)),
  }));
  router.get('/ui/executions/:id/logs/:stage/:action', (req, res) => {
    const session = sessions.read(req);
    if (!session) return res.redirect(303, `/ui/login?next=${encodeURIComponent(req.originalUrl)}`);
    const { id, stage, action } = req.params;
    const body = logPage({ executionId: id, stage, action });
    sendPage(res, 200, { title: `${id} ${stage}/${action}`, section: 'log', body }, session, false, false);
  });

  // Live updates: `?page=<path and query of a page>`; `change` whenever what that page shows changed.
  router.get('/ui/events', (req, res, next) => {
    const session = sessions.read(req);
    if (!session) return next(new HttpProblem(401, 'sign in at /ui/login'));
    const target = new URL(typeof req.query.page === 'string' ? req.query.page : '/ui', 'http://paso');
    const found = pages
      .map((p) => ({ p, m: p.pattern.exec(target.pathname) }))
      .find((x): x is { p: (typeof pages)[number]; m: RegExpExecArray } => x.m !== null);
    if (!found) return next(new HttpProblem(404, `no live page ${target.pathname}`));
    const params = Object.fromEntries(found.p.names.map((n, i) => [n, decodeURIComponent(found.m[i + 1]!)]));
    const query = Object.fromEntries(target.searchParams);
    res.set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    let closed = false;
    let last: string | null = null;
    res.on('close', () => (closed = true));
    const tick = async () => {
      while (!closed) {
        try {
          const loaded = await found.p.load(session.user, params, query);
          const digest = createHash('sha256')
            .update(renderPage({ ...loaded, user: null, csrfToken: null, live: false }, true))
            .digest('base64url');
          if (last !== null && digest !== last) res.write(`event: change\ndata: ${digest}\n\n`);
          else res.write(': still here\n\n');
          last = digest;
        } catch {
          res.write(': not readable now\n\n');
        }
        await new Promise((r) => setTimeout(r, LIVE_INTERVAL_MS));
      }
    };
    void tick();
  });

  // A browser following a link to the API (a `reviewUrl` in a notification) lands on the console's page.
  router.get(['/', '/executions/:id', '/pipelines/:name'], (req, res, next) => {
    if (req.accepts(['application/json', 'text/html']) !== 'text/html') return next();
    res.redirect(303, req.path === '/' ? '/ui' : `/ui${req.path}`);
  });

  // Pages answer errors as pages; `/ui/api` keeps problem+json.
  router.use('/ui', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (req.path.startsWith('/api/') || req.path === '/events' || req.method !== 'GET') return next(err);
    const problem = toProblem(err);
    if (problem.status >= 500 && problem.status !== 503) return next(err);
    const session = sessions.read(req);
    sendPage(
      res,
      problem.status,
      { title: 'Error', section: 'waiting', body: errorPage(problem.status, problem.message) },
      session,
    );
  });
  return router;
}

function sendPage(
  res: Response,
  status: number,
  loaded: Loaded,
  session: Session | null,
  partial = false,
  live = true,
): void {
  const shell: PageShell = {
    ...loaded,
    user: session ? { name: session.user.name, roles: session.user.roles } : null,
    csrfToken: session?.csrfToken ?? null,
    live: live && session !== null && loaded.section !== 'login',
  };
  res
    .status(status)
    .type('text/html; charset=utf-8')
    .set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'same-origin',
      'Content-Security-Policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    })
    .send(renderPage(shell, partial));
}

/** Where to go after signing in: only a console page of this gateway, never another site. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/ui(\/[^/\\]|$|\?)/.test(value) && !value.includes('//') ? value : '/ui';
}

interface Asset {
  body: string;
  type: string;
  etag: string;
}

/** The console's stylesheet and script, read once at start. */
function loadAssets(): Map<string, Asset> {
  const dir = path.join(projectRoot(), 'src', 'api', 'console', 'assets');
  const assets = new Map<string, Asset>();
  for (const [file, type] of [
    ['console.css', 'text/css; charset=utf-8'],
    ['console.js', 'text/javascript; charset=utf-8'],
  ] as const) {
    const body = readFileSync(path.join(dir, file), 'utf8');
    assets.set(file, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` });
  }
  return assets;
}
