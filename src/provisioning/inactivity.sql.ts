import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The inactivity policy's SQL: who it would act on, and acting on them. A user is inactive when
 * their connection has `inactivity_days` and they have not signed in for that long (never signed
 * in: counted from when the user was made). Someone already blocked is not blocked again; someone
 * without licenses has no seats to give back.
 */

export interface InactiveRow {
  user_id: string;
  username: string;
  connection_id: string;
  last_login_at: Date | string | null;
  created_at: Date | string;
  action: 'BLOCK' | 'RELEASE_SEATS' | 'BLOCK_AND_RELEASE';
  block: boolean;
  release: boolean;
}

const CANDIDATES = `
  select u.id as user_id, u.username, u.connection_id, u.last_login_at, u.created_at, c.inactivity_action as action,
         (c.inactivity_action <> 'RELEASE_SEATS' and u.status = 'ACTIVE') as block,
         (c.inactivity_action <> 'BLOCK' and exists (select from license_grant g where g.user_id = u.id)) as release
    from app_user u join idp_connection c on c.id = u.connection_id
   where c.inactivity_days is not null
     and coalesce(u.last_login_at, u.created_at) < now() - make_interval(days => c.inactivity_days)
     and ((c.inactivity_action <> 'RELEASE_SEATS' and u.status = 'ACTIVE')
          or (c.inactivity_action <> 'BLOCK' and exists (select from license_grant g where g.user_id = u.id)))`;

/** Who the policy would act on now (the dry run), oldest sign-in first. */
export async function inactiveUsers(
  em: EntityManager,
  connectionId: string | null,
  limit: number,
): Promise<InactiveRow[]> {
  return em.execute<InactiveRow[]>(
    `select * from (${CANDIDATES}) x where (?::uuid is null or x.connection_id = ?::uuid)
      order by coalesce(x.last_login_at, x.created_at), x.user_id limit ?`,
    [connectionId, connectionId, limit],
  );
}

/**
 * One run of the policy, in the caller's transaction: only while it holds the policy's advisory
 * lock (another process running it meanwhile makes this run a no-op), at most `limit` users, each
 * locked and checked again (a sign-in that committed meanwhile takes them out of the set). Every
 * action is an admin audit row by the actor `inactivity-policy`. null: another process holds the lock.
 */
export async function applyInactivity(
  tx: EntityManager,
  limit: number,
): Promise<{ userId: string; username: string; blocked: boolean; released: string[] }[] | null> {
  const [lock] = await tx.execute<{ locked: boolean }[]>(
    `select pg_try_advisory_xact_lock(hashtext('jitprov.inactivity-policy')) as locked`,
  );
  if (!lock?.locked) return null;
  // Locked as read: a user a sign-in holds right now is skipped (this run leaves them be), and a
  // sign-in that committed meanwhile takes them out of the set (the row is checked again).
  const rows = await tx.execute<InactiveRow[]>(
    `${CANDIDATES} order by coalesce(u.last_login_at, u.created_at), u.id limit ? for update of u skip locked`,
    [limit],
  );
  const done: { userId: string; username: string; blocked: boolean; released: string[] }[] = [];
  for (const row of rows) {
    let released: string[] = [];
    if (row.block) {
      await tx.execute(`update app_user set status = 'BLOCKED' where id = ?`, [row.user_id]);
      await tx.execute(
        `update user_session set revoked_at = now() where user_id = ? and revoked_at is null`,
        [row.user_id],
      );
    }
    if (row.release) {
      released = (
        await tx.execute<{ name: string }[]>('select name from jitprov_release_seats(?, null)', [row.user_id])
      ).map((r) => r.name);
    }
    await tx.execute(
      `insert into admin_audit_event (actor, action, target_type, target_id, before, after)
       values ('inactivity-policy', 'user.inactive', 'User', ?, ?::jsonb, ?::jsonb)`,
      [
        row.user_id,
        JSON.stringify({ lastLoginAt: row.last_login_at, status: row.block ? 'ACTIVE' : undefined }),
        JSON.stringify({ blocked: row.block, licensesReleased: released, action: row.action }),
      ],
    );
    done.push({ userId: row.user_id, username: row.username, blocked: row.block, released });
  }
  return done;
}
