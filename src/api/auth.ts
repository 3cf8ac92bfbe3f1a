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

export function authenticate(users: readonly User[]): RequestHandler {
  const hashes = users.map((u) => ({ user: u, hash: Buffer.from(u.tokenSha256, 'hex') }));
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!match) {
      res.set('WWW-Authenticate', 'Bearer');
      return next(new HttpProblem(401, 'send Authorization: Bearer <token>'));
    }
    const presented = Buffer.from(sha256Hex(match[1]!), 'hex');
    // Compare against every user, so the time taken says nothing about which one matched.
    let found: User | undefined;
    for (const { user, hash } of hashes) if (timingSafeEqual(hash, presented)) found ??= user;
    if (!found) {
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
