import type { EntityManager } from '@mikro-orm/postgresql';
import type { Filter } from 'scim2-parse-filter';
import { ScimError } from './errors.js';
import { compare } from './users.sql.js';

/** The SCIM Groups of a connection and their members, as SQL. */

const COLUMNS: Record<string, { sql: string; caseExact: boolean }> = {
  id: { sql: 'g.id::text', caseExact: true },
  displayname: { sql: 'g.display_name', caseExact: false },
  externalid: { sql: 'g.external_id', caseExact: true },
};

function whereOf(f: Filter, params: unknown[]): string {
  switch (f.op) {
    case 'and':
    case 'or':
      return `(${f.filters.map((x) => whereOf(x, params)).join(` ${f.op} `)})`;
    case 'not':
      return `not (${whereOf(f.filter, params)})`;
    case '[]':
      throw new ScimError(400, 'value filters are not supported on Groups', 'invalidFilter');
    default: {
      const path = f.attrPath.toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:group:/, '');
      if (path === 'members.value' || path === 'members') {
        if (f.op !== 'eq' || typeof f.compValue !== 'string')
          throw new ScimError(400, 'members eq "<user id>"', 'invalidFilter');
        params.push(f.compValue);
        return `exists (select from scim_group_member m where m.group_id = g.id and m.user_id::text = ?)`;
      }
      const c = COLUMNS[path];
      if (!c)
        throw new ScimError(400, `filtering Groups on "${f.attrPath}" is not supported`, 'invalidFilter');
      return compare(c.sql, c.caseExact, f.op, f.op === 'pr' ? null : f.compValue, params);
    }
  }
}

export interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export async function listGroups(
  em: EntityManager,
  connectionId: string,
  filter: Filter | null,
  startIndex: number,
  count: number,
): Promise<{ total: number; rows: GroupRow[] }> {
  const params: unknown[] = [connectionId];
  const where = filter ? ` and ${whereOf(filter, params)}` : '';
  const base = `select g.id, g.display_name, g.external_id, g.created_at, g.updated_at from scim_group g where g.connection_id = ?${where}`;
  const [counted] = await em.execute<{ n: string | number }[]>(
    `select count(*) as n from (${base}) x`,
    params,
  );
  const rows =
    count === 0
      ? []
      : await em.execute<GroupRow[]>(`${base} order by g.created_at, g.id offset ? limit ?`, [
          ...params,
          startIndex - 1,
          count,
        ]);
  return { total: Number(counted?.n ?? 0), rows };
}

export async function getGroup(
  em: EntityManager,
  connectionId: string,
  id: string,
  lock = false,
): Promise<GroupRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const rows = await em.execute<GroupRow[]>(
    `select id, display_name, external_id, created_at, updated_at from scim_group where connection_id = ? and id = ?${lock ? ' for update' : ''}`,
    [connectionId, id],
  );
  return rows[0] ?? null;
}

/** The members of some groups: user id and username, by group. */
export async function membersOf(
  em: EntityManager,
  groupIds: readonly string[],
): Promise<Map<string, { value: string; display: string }[]>> {
  const out = new Map<string, { value: string; display: string }[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await em.execute<{ group_id: string; user_id: string; username: string }[]>(
    `select m.group_id, m.user_id, u.username from scim_group_member m join app_user u on u.id = m.user_id
      where m.group_id in (?) order by u.username`,
    [groupIds],
  );
  for (const r of rows) out.get(r.group_id)?.push({ value: r.user_id, display: r.username });
  return out;
}

/** The connection's SCIM users among these ids (a member must be one). */
export async function knownUsers(
  em: EntityManager,
  connectionId: string,
  ids: readonly string[],
): Promise<Set<string>> {
  const valid = ids.filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (valid.length === 0) return new Set();
  const rows = await em.execute<{ user_id: string }[]>(
    'select user_id from scim_user where connection_id = ? and deleted_at is null and user_id in (?)',
    [connectionId, valid],
  );
  return new Set(rows.map((r) => r.user_id));
}

export async function insertGroup(
  em: EntityManager,
  connectionId: string,
  displayName: string,
  externalId: string | null,
): Promise<string> {
  const [row] = await em.execute<{ id: string }[]>(
    'insert into scim_group (connection_id, display_name, external_id) values (?, ?, ?) returning id',
    [connectionId, displayName, externalId],
  );
  return row!.id;
}

export async function updateGroup(
  em: EntityManager,
  id: string,
  displayName: string,
  externalId: string | null,
): Promise<void> {
  await em.execute(
    'update scim_group set display_name = ?, external_id = ?, updated_at = now() where id = ?',
    [displayName, externalId, id],
  );
}

export async function addMembers(
  em: EntityManager,
  groupId: string,
  userIds: readonly string[],
): Promise<void> {
  if (userIds.length === 0) return;
  await em.execute(
    'insert into scim_group_member (group_id, user_id) select ?, u::uuid from jsonb_array_elements_text(?::jsonb) u on conflict do nothing',
    [groupId, JSON.stringify(userIds)],
  );
}

export async function removeMembers(
  em: EntityManager,
  groupId: string,
  userIds: readonly string[] | null,
): Promise<void> {
  if (userIds === null) {
    await em.execute('delete from scim_group_member where group_id = ?', [groupId]);
  } else if (userIds.length > 0) {
    await em.execute(
      'delete from scim_group_member where group_id = ? and user_id::text in (select jsonb_array_elements_text(?::jsonb))',
      [groupId, JSON.stringify(userIds)],
    );
  }
}

export async function deleteGroup(em: EntityManager, id: string): Promise<void> {
  await em.execute('delete from scim_group where id = ?', [id]);
}

/** A member's groups, as role and license rules match them: the external id (Entra's object id) and the name. */
export async function groupsOfUser(
  em: EntityManager,
  connectionId: string,
  userId: string,
): Promise<string[] | null> {
  const rows = await em.execute<{ display_name: string; external_id: string | null; member: boolean }[]>(
    `select g.display_name, g.external_id, exists (select from scim_group_member m where m.group_id = g.id and m.user_id = ?) as member
       from scim_group g where g.connection_id = ?`,
    [userId, connectionId],
  );
  // A connection whose IdP pushes no groups over SCIM: the groups are not known on this road.
  if (rows.length === 0) return null;
  return rows
    .filter((r) => r.member)
    .flatMap((r) => (r.external_id ? [r.external_id, r.display_name] : [r.display_name]));
}
