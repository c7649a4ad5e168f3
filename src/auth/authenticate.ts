import type { MikroORM } from '@mikro-orm/postgresql';
import { findAdminToken, findSession, touchAdminToken } from './sessions.sql.js';
import { ADMIN_TOKEN_PREFIX, hashToken, SESSION_TOKEN_PREFIX, secretsEqual } from './tokens.js';

/** Why a presented credential was refused (UNAUTHENTICATED). */
export type Rejection = 'UNKNOWN' | 'EXPIRED' | 'REVOKED' | 'USER_BLOCKED';

/** Who is calling. */
export type Auth =
  | { kind: 'anonymous' }
  /** The bootstrap ADMIN_TOKEN (name null) or a named admin token. */
  | { kind: 'admin'; tokenName: string | null }
  | { kind: 'user'; userId: string; sessionId: string; admin: boolean }
  /** A credential was presented and is not valid: the request is refused, never served as anonymous. */
  | { kind: 'rejected'; why: Rejection };

/** A named token's last use is written at most this often. */
const TOUCH_EVERY_MS = 60_000;

/**
 * Resolves `Authorization: Bearer <token>` to the caller: the bootstrap admin token, a named admin
 * token (`jpa_…`), or a live session (`jps_…`) of an active user. No credential at all is
 * anonymous; a credential that is unknown, expired, revoked or of a blocked user is `rejected`
 * (so that a client can tell "signed out" from "never signed in").
 */
export function createAuthenticator(deps: { orm: MikroORM; adminToken: string | undefined }) {
  const touched = new Map<string, number>();

  return async function authenticate(header: string | null): Promise<Auth> {
    if (header === null || header.trim() === '') return { kind: 'anonymous' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (!token) return { kind: 'rejected', why: 'UNKNOWN' };
    if (deps.adminToken && secretsEqual(token, deps.adminToken)) return { kind: 'admin', tokenName: null };
    // Looked up by hash: an index read that reveals nothing about how close a guess was.
    if (token.startsWith(ADMIN_TOKEN_PREFIX)) {
      const found = await findAdminToken(deps.orm.em.fork(), hashToken(token));
      if (!found) return { kind: 'rejected', why: 'UNKNOWN' };
      if (found.revoked) return { kind: 'rejected', why: 'REVOKED' };
      const now = Date.now();
      if ((touched.get(found.id) ?? found.lastUsedAt?.getTime() ?? 0) < now - TOUCH_EVERY_MS) {
        touched.set(found.id, now);
        if (touched.size > 10_000) touched.clear();
        await touchAdminToken(deps.orm.em.fork(), found.id);
      }
      return { kind: 'admin', tokenName: found.name };
    }
    if (!token.startsWith(SESSION_TOKEN_PREFIX)) return { kind: 'rejected', why: 'UNKNOWN' };
    const session = await findSession(deps.orm.em.fork(), hashToken(token));
    if (!session) return { kind: 'rejected', why: 'UNKNOWN' };
    if (!session.live) return { kind: 'rejected', why: session.why };
    const { live: _, ...s } = session;
    return { kind: 'user', ...s };
  };
}
