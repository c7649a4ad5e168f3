import type { MikroORM } from '@mikro-orm/postgresql';
import { findLiveSession } from './sessions.sql.js';
import { hashToken, secretsEqual } from './tokens.js';

/** Who is calling. */
export type Auth =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'user'; userId: string; sessionId: string; admin: boolean };

/**
 * Resolves `Authorization: Bearer <token>` to the caller: the bootstrap admin token, or a live
 * session of an active user. Anything else is anonymous (guarded fields then refuse).
 */
export function createAuthenticator(deps: { orm: MikroORM; adminToken: string | undefined }) {
  return async function authenticate(header: string | null): Promise<Auth> {
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    const token = match?.[1];
    if (!token) return { kind: 'anonymous' };
    if (deps.adminToken && secretsEqual(token, deps.adminToken)) return { kind: 'admin' };
    if (!token.startsWith('jps_')) return { kind: 'anonymous' };
    const session = await findLiveSession(deps.orm.em.fork(), hashToken(token));
    return session ? { kind: 'user', ...session } : { kind: 'anonymous' };
  };
}
