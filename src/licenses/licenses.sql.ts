import type { EntityManager } from '@mikro-orm/postgresql';
import { plainRows } from '../db/plain.js';
import type { KeysetQuery } from '../graphql/keyset.sql.js';
import { License } from './license.entity.js';

/**
 * Licenses' hand-written SQL: seats taken and given back through the functions of seats.sql (the
 * one place seats change, shared with the provisioning transaction), and the plain-row readers
 * GraphQL lists with.
 */

type Row = Record<string, unknown>;

// Arrays are bound as `array[?]`: the driver binds a list as one placeholder per item.

/** Grants the licenses that have a free seat and that the user does not hold yet; returns those granted. */
export async function takeSeats(
  em: EntityManager,
  userId: string,
  licenseIds: readonly string[],
): Promise<{ id: string; name: string }[]> {
  return em.execute('select id, name from jitprov_take_seats(?, array[?]::uuid[])', [userId, licenseIds]);
}

/** Takes the user's grants of these licenses back and frees their seats; returns those released. */
export async function releaseSeats(
  em: EntityManager,
  userId: string,
  licenseIds: readonly string[],
): Promise<{ id: string; name: string }[]> {
  return em.execute('select id, name from jitprov_release_seats(?, array[?]::uuid[])', [userId, licenseIds]);
}

/** Each user's licenses, by name, for a page of users (one query). */
export async function licensesByUserIds(em: EntityManager, ids: readonly string[]): Promise<License[][]> {
  const rows = await em.execute<Row[]>(
    `select g.user_id as grant_user_id, l.* from license_grant g join license l on l.id = g.license_id
     where g.user_id in (?)`,
    [ids],
  );
  const toLicense = plainRows(em, License);
  const byUser = new Map<string, License[]>(ids.map((id) => [id, []]));
  for (const row of rows) byUser.get(String(row.grant_user_id))?.push(toLicense(row));
  return ids.map((id) => (byUser.get(id) ?? []).sort((a, b) => a.name.localeCompare(b.name)));
}

export function licenseList(filter: { active?: boolean | null }): KeysetQuery {
  const byActive = filter.active !== null && filter.active !== undefined;
  return {
    select: 'l.*',
    from: 'from license l',
    where: byActive ? ['l.active = ?'] : [],
    params: byActive ? [filter.active] : [],
    sortExpr: 'l.name',
    idExpr: 'l.id',
    descending: false,
  };
}
