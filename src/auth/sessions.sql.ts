import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The token lookups every authenticated request makes: one indexed read each, hand-written because
 * they run on every request (and the auth floor imports no other floor's entity).
 */

export type SessionLookup =
  | { live: true; sessionId: string; userId: string; admin: boolean }
  | { live: false; why: 'EXPIRED' | 'REVOKED' | 'USER_BLOCKED' }
  | null;

/** A session by its token's hash: live, or why not; null when no session has that token. */
export async function findSession(em: EntityManager, tokenHash: string): Promise<SessionLookup> {
  const rows = await em.execute<
    {
      session_id: string;
      user_id: string;
      is_admin: boolean;
      expired: boolean;
      revoked: boolean;
      status: string;
    }[]
  >(
    `select s.id as session_id, s.user_id, u.is_admin, s.expires_at <= now() as expired,
            s.revoked_at is not null as revoked, u.status
       from user_session s join app_user u on u.id = s.user_id
      where s.token_hash = ?`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.revoked) return { live: false, why: 'REVOKED' };
  if (row.expired) return { live: false, why: 'EXPIRED' };
  if (row.status !== 'ACTIVE') return { live: false, why: 'USER_BLOCKED' };
  return { live: true, sessionId: row.session_id, userId: row.user_id, admin: row.is_admin === true };
}

/** A named admin token by its hash: its name, or revoked; null when no token has that hash. */
export async function findAdminToken(
  em: EntityManager,
  tokenHash: string,
): Promise<{ id: string; name: string; revoked: boolean; lastUsedAt: Date | null } | null> {
  const rows = await em.execute<
    { id: string; name: string; revoked: boolean; last_used_at: Date | string | null }[]
  >(
    'select id, name, revoked_at is not null as revoked, last_used_at from admin_token where token_hash = ?',
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    revoked: row.revoked,
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
  };
}

/** Marks a named admin token used (callers throttle: at most once a minute per token). */
export async function touchAdminToken(em: EntityManager, id: string): Promise<void> {
  await em.execute('update admin_token set last_used_at = now() where id = ?', [id]);
}
