/**
 * The console's sessions: a person signs in once with their token and the browser then holds a signed,
 * expiring, HttpOnly, SameSite=Strict cookie. The token itself is never kept: the cookie names the user and
 * carries a fingerprint of their token's hash, so a rotated token (or a removed user) ends every session at
 * once. Cookies are signed with HMAC-SHA256 under `PASO_SESSION_SECRET` (every gateway behind one address
 * needs the same), or under a key made at start (sessions then end when the gateway restarts).
 *
 * State-changing requests carry a CSRF token derived from the session (`X-CSRF-Token`, or a form field at
 * sign-out): a page of another origin can make the browser send the cookie (127.0.0.1:other-port is the same
 * *site*), but cannot read the token.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookie } from 'cookie';
import type { Request, RequestHandler, Response } from 'express';
import type { User } from '../../config.js';
import { HttpProblem } from '../problem.js';

export const SESSION_COOKIE = 'paso_session';
/** How long a session lasts after sign-in. */
export const SESSION_HOURS = 12;

interface SessionClaims {
  /** The user's name. */
  u: string;
  /** The first characters of the user's token hash when they signed in. */
  t: string;
  /** Expiry, epoch seconds. */
  e: number;
  /** A random id: what sign-out revokes and the CSRF token derives from. */
  n: string;
}

export interface Session {
  user: User;
  csrfToken: string;
  expiresAt: Date;
}

export class Sessions {
  private readonly key: Buffer;
  /** Sessions signed out before they expired, by nonce, until their expiry (this gateway only). */
  private readonly revoked = new Map<string, number>();

  constructor(
    private readonly users: readonly User[],
    secret: string | undefined,
    private readonly secureCookies: boolean,
    private readonly now: () => number = Date.now,
  ) {
    this.key = secret ? Buffer.from(secret, 'utf8') : randomBytes(32);
  }

  /** Signs `user` in: sets the cookie and answers the session. */
  start(res: Response, user: User): Session {
    const expires = Math.floor(this.now() / 1000) + SESSION_HOURS * 3600;
    const claims: SessionClaims = { u: user.name, t: user.tokenSha256.slice(0, 16), e: expires, n: randomHex() };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    res.cookie(SESSION_COOKIE, `${body}.${this.sign(body)}`, this.cookieOptions(SESSION_HOURS * 3600_000));
    return { user, csrfToken: this.csrf(claims), expiresAt: new Date(expires * 1000) };
  }

  /** The request's session, or null when it has none that is valid now. */
  read(req: Request): Session | null {
    const claims = this.claims(req);
    if (!claims) return null;
    const user = this.users.find((u) => u.name === claims.u && u.tokenSha256.startsWith(claims.t));
    return user ? { user, csrfToken: this.csrf(claims), expiresAt: new Date(claims.e * 1000) } : null;
  }

  /** Signs out: revokes the session (on this gateway; the cookie is cleared everywhere it is sent). */
  end(req: Request, res: Response): void {
    const claims = this.claims(req);
    if (claims) this.revoked.set(claims.n, claims.e);
    res.clearCookie(SESSION_COOKIE, this.cookieOptions());
  }

  /** Authenticates by the cookie (setting `req.user`), and checks the CSRF token of state-changing requests. */
  middleware(): RequestHandler {
    return (req, res, next) => {
      const session = this.read(req);
      if (!session) return next(new HttpProblem(401, 'sign in at /ui/login'));
      if (!SAFE_METHODS.has(req.method) && !this.csrfMatches(session, req.get('x-csrf-token'))) {
        return next(new HttpProblem(403, 'this request does not carry the page’s CSRF token'));
      }
      req.user = session.user;
      res.locals.session = session;
      next();
    };
  }

  csrfMatches(session: Session, presented: unknown): boolean {
    if (typeof presented !== 'string' || presented.length !== session.csrfToken.length) return false;
    return timingSafeEqual(Buffer.from(presented), Buffer.from(session.csrfToken));
  }

  private claims(req: Request): SessionClaims | null {
    const raw = parseCookie(req.get('cookie') ?? '')[SESSION_COOKIE];
    const [body, signature] = raw?.split('.') ?? [];
    if (!body || !signature) return null;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    let claims: SessionClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionClaims;
    } catch {
      return null;
    }
    const nowSeconds = this.now() / 1000;
    if (typeof claims.e !== 'number' || claims.e <= nowSeconds) return null;
    for (const [nonce, expiry] of this.revoked) if (expiry <= nowSeconds) this.revoked.delete(nonce);
    return this.revoked.has(claims.n) ? null : claims;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  private csrf(claims: SessionClaims): string {
    return createHmac('sha256', this.key).update(`csrf:${claims.n}`).digest('base64url');
  }

  private cookieOptions(maxAge?: number) {
    return {
      httpOnly: true,
      sameSite: 'strict' as const,
      secure: this.secureCookies,
      path: '/',
      ...(maxAge ? { maxAge } : {}),
    };
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function randomHex(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Whether a request comes from a page of this gateway: browsers send `Origin` on every POST (and
 * `Sec-Fetch-Site` on all requests), so a request from another origin cannot pass as ours.
 */
export function sameOrigin(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.get('origin');
  if (!origin) return site === 'same-origin';
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}
