/**
 * Bearer-token authentication and role checks. Identity always comes from the token, never from the body.
 * Tokens are compared by their SHA-256 in constant time; the tokens themselves are never stored.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Role, User } from '../config.js';
import { ROLES, sha256Hex } from '../config.js';
import { HttpProblem } from './problem.js';

declare module 'express-serve-static-core' {
  interface Request {
    user?: User;
  }
}

/**
 * Failed authentications per client address, as token buckets: each address may fail `perMinute` times in a
 * burst, then once every `60 / perMinute` seconds. An address with no failures left is answered 429 with
 * `Retry-After` for every token it presents, valid or not, until its bucket refills: otherwise a guesser would
 * learn a right guess from its 200. Addresses that do not fail never meet the limit.
 */
export class AuthFailureLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private static readonly MAX_ADDRESSES = 100_000;

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `address` may try again, or 0 when it may now. */
  retryAfter(address: string): number {
    const bucket = this.refilled(address);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 60) / this.perMinute));
  }

  failed(address: string): void {
    const bucket = this.refilled(address) ?? { tokens: this.perMinute, at: this.now() };
    bucket.tokens -= 1;
    this.buckets.delete(address); // re-inserted last: the map's order is least recently failed first
    this.buckets.set(address, bucket);
    if (this.buckets.size > AuthFailureLimiter.MAX_ADDRESSES) {
      this.buckets.delete(this.buckets.keys().next().value!);
    }
  }

  private refilled(address: string) {
    const bucket = this.buckets.get(address);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * this.perMinute);
    bucket.at = now;
    if (bucket.tokens >= this.perMinute) {
      this.buckets.delete(address); // full again: nothing to remember
      return undefined;
    }
    return bucket;
  }
}

/**
 * The user a token belongs to, if any. Tokens are compared by hash against every user, so the time taken says
 * nothing about which one matched. The API (bearer tokens) and the console's sign-in both use it.
 */
export function tokenMatcher(users: readonly User[]): (token: string) => User | undefined {
  const hashes = users.map((u) => ({ user: u, hash: Buffer.from(u.tokenSha256, 'hex') }));
  return (token) => {
    const presented = Buffer.from(sha256Hex(token), 'hex');
    let found: User | undefined;
    for (const { user, hash } of hashes) if (timingSafeEqual(hash, presented)) found ??= user;
    return found;
  };
}

/** The address failed authentications are counted against (the client's, behind trusted proxies). */
export function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** 429 while `address` has no failed authentications left. */
export function refuseWhileLimited(limiter: AuthFailureLimiter | null, address: string): void {
  const wait = limiter?.retryAfter(address) ?? 0;
  if (wait > 0) {
    throw new HttpProblem(
      429,
      `too many failed authentications from ${address}: try again in ${wait} s`,
      undefined,
      {},
      wait,
    );
  }
}

export function authenticate(users: readonly User[], limiter: AuthFailureLimiter | null = null): RequestHandler {
  const userFor = tokenMatcher(users);
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(new HttpProblem(401, 'send Authorization: Bearer <token>'));
    }
    const address = clientAddress(req);
    refuseWhileLimited(limiter, address);
    const found = userFor(match[1]!);
    if (!found) {
      limiter?.failed(address);
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return next(new HttpProblem(401, 'unknown token'));
    }
    req.user = found;
    next();
  };
}

/** Roles are ordered: an admin may do what an operator may, an operator what a viewer may. */
export function hasRole(user: User, role: Role): boolean {
  const needed = ROLES.indexOf(role);
  return user.roles.some((r) => ROLES.indexOf(r) >= needed);
}

/** The one role check, for routes (`requireRole`) and for what `Paso` does on a person's behalf. */
export function authorize(user: User, role: Role): void {
  if (!hasRole(user, role)) throw new HttpProblem(403, `this needs the ${role} role`);
}

export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    authorize(currentUser(req), role);
    next();
  };
}

export function currentUser(req: Request): User {
  if (!req.user) throw new HttpProblem(401, 'not authenticated');
  return req.user;
}
