import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The session lookup every authenticated request makes: one indexed read, hand-written because it
 * runs on every request (and the auth floor imports no entity).
 */
export async function findLiveSession(
  em: EntityManager,
  tokenHash: string,
): Promise<{ sessionId: string; userId: string; admin: boolean } | null> {
  const rows = await em.execute<{ session_id: string; user_id: string; is_admin: boolean }[]>(
    `select s.id as session_id, s.user_id, u.is_admin from user_session s join app_user u on u.id = s.user_id
     where s.token_hash = ? and s.revoked_at is null and s.expires_at > now() and u.status = 'ACTIVE'`,
    [tokenHash],
  );
  const row = rows[0];
  return row ? { sessionId: row.session_id, userId: row.user_id, admin: row.is_admin === true } : null;
}
