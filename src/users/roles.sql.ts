import type { EntityManager } from '@mikro-orm/postgresql';
import { plainRows } from '../db/plain.js';
import { Role } from './role.entity.js';

/** The roles each user holds, by user id in the order given (one query for a page of users). */
export async function rolesByUserIds(em: EntityManager, ids: readonly string[]): Promise<Role[][]> {
  const rows = await em.execute<(Record<string, unknown> & { user_id: string })[]>(
    `select ur.user_id, r.* from user_role ur join role r on r.id = ur.role_id
      where ur.user_id in (?) order by r.name`,
    [ids],
  );
  const toRole = plainRows(em, Role);
  const byUser = new Map<string, Role[]>(ids.map((id) => [id, []]));
  for (const { user_id, ...role } of rows) byUser.get(user_id)?.push(toRole(role));
  return ids.map((id) => byUser.get(id) ?? []);
}
