import type { MikroORM } from '@mikro-orm/postgresql';
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
    const rows = await deps.orm.em
      .fork()
      .execute<{ session_id: string; user_id: string; is_admin: boolean }[]>(
        `select s.id as session_id, s.user_id, u.is_admin from user_session s join app_user u on u.id = s.user_id
       where s.token_hash = ? and s.revoked_at is null and s.expires_at > now() and u.status = 'ACTIVE'`,
        [hashToken(token)],
      );
    const row = rows[0];
    return row
      ? { kind: 'user', userId: row.user_id, sessionId: row.session_id, admin: row.is_admin === true }
      : { kind: 'anonymous' };
  };
}
