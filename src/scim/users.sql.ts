import type { EntityManager } from '@mikro-orm/postgresql';
import type { Filter } from 'scim2-parse-filter';
import { ScimError } from './errors.js';

/**
 * The SCIM Users of a connection as SQL: a filter (parsed by scim2-parse-filter) turned into a
 * WHERE clause over the kept resource and the user row, with its parameters, and the page read.
 * Attribute names are case-insensitive (RFC 7643 §2.1); userName and emails compare
 * case-insensitively, externalId and id exactly (their caseExact).
 */

interface Column {
  sql: string;
  caseExact: boolean;
}

const SCALARS: Record<string, Column> = {
  id: { sql: 'u.id::text', caseExact: true },
  username: { sql: `(s.resource->>'userName')`, caseExact: false },
  externalid: { sql: `(s.resource->>'externalId')`, caseExact: true },
  displayname: { sql: `(s.resource->>'displayName')`, caseExact: false },
  'name.givenname': { sql: `(s.resource->'name'->>'givenName')`, caseExact: false },
  'name.familyname': { sql: `(s.resource->'name'->>'familyName')`, caseExact: false },
};
const LISTS: Record<string, string> = { emails: 'emails', phonenumbers: 'phoneNumbers' };

const escapeLike = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);

export function compare(
  sql: string,
  caseExact: boolean,
  op: string,
  value: unknown,
  params: unknown[],
): string {
  if (op === 'pr') return `(${sql} is not null and ${sql} <> '')`;
  if (typeof value !== 'string')
    throw new ScimError(400, `"${op}" compares with a string here`, 'invalidFilter');
  const left = caseExact ? sql : `lower(${sql})`;
  const v = caseExact ? value : value.toLowerCase();
  switch (op) {
    case 'eq':
      params.push(v);
      return `${left} = ?`;
    case 'ne':
      params.push(v);
      return `${left} is distinct from ?`;
    case 'co':
      params.push(`%${escapeLike(v)}%`);
      return `${left} like ?`;
    case 'sw':
      params.push(`${escapeLike(v)}%`);
      return `${left} like ?`;
    case 'ew':
      params.push(`%${escapeLike(v)}`);
      return `${left} like ?`;
    default:
      throw new ScimError(400, `operator "${op}" is not supported on this attribute`, 'invalidFilter');
  }
}

/** A filter over one element of a multi-valued attribute (emails[type eq "work"], emails.value). */
function element(f: Filter, params: unknown[]): string {
  switch (f.op) {
    case 'and':
    case 'or':
      return `(${f.filters.map((x) => element(x, params)).join(` ${f.op} `)})`;
    case 'not':
      return `not (${element(f.filter, params)})`;
    case '[]':
      throw new ScimError(400, 'nested value filters are not supported', 'invalidFilter');
    default: {
      const sub = f.attrPath.toLowerCase();
      if (sub !== 'value' && sub !== 'type' && sub !== 'primary') {
        throw new ScimError(400, `unknown sub-attribute "${f.attrPath}"`, 'invalidFilter');
      }
      if (sub === 'primary') {
        if (f.op !== 'eq' || typeof f.compValue !== 'boolean')
          throw new ScimError(400, 'primary eq true|false', 'invalidFilter');
        params.push(f.compValue);
        return `coalesce((e->>'primary')::boolean, false) = ?`;
      }
      return compare(`(e->>'${sub}')`, false, f.op, f.op === 'pr' ? null : f.compValue, params);
    }
  }
}

const anyElement = (list: string, inner: string) =>
  `exists (select from jsonb_array_elements(case when jsonb_typeof(s.resource->'${list}') = 'array' then s.resource->'${list}' else '[]'::jsonb end) e where ${inner})`;

export function whereOf(f: Filter, params: unknown[]): string {
  switch (f.op) {
    case 'and':
    case 'or':
      return `(${f.filters.map((x) => whereOf(x, params)).join(` ${f.op} `)})`;
    case 'not':
      return `not (${whereOf(f.filter, params)})`;
    case '[]': {
      const list = LISTS[f.attrPath.toLowerCase()];
      if (!list) throw new ScimError(400, `"${f.attrPath}" is not a multi-valued attribute`, 'invalidFilter');
      return anyElement(list, element(f.valFilter, params));
    }
    default: {
      const path = f.attrPath.toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:user:/, '');
      if (path === 'active') {
        if (f.op !== 'eq' || typeof f.compValue !== 'boolean')
          throw new ScimError(400, 'active eq true|false', 'invalidFilter');
        return f.compValue ? `u.status = 'ACTIVE'` : `u.status <> 'ACTIVE'`;
      }
      const scalar = SCALARS[path];
      if (scalar)
        return compare(scalar.sql, scalar.caseExact, f.op, f.op === 'pr' ? null : f.compValue, params);
      const [listName, sub] = path.split('.');
      const list = LISTS[listName ?? ''];
      if (list) {
        const elementFilter: Filter =
          f.op === 'pr'
            ? { op: 'pr', attrPath: sub ?? 'value' }
            : ({ op: f.op, attrPath: sub ?? 'value', compValue: f.compValue } as Filter);
        return anyElement(list, element(elementFilter, params));
      }
      throw new ScimError(400, `filtering on "${f.attrPath}" is not supported`, 'invalidFilter');
    }
  }
}

export interface ScimUserRow {
  user_id: string;
  resource: Record<string, unknown>;
  status: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const SELECT = `select u.id as user_id, s.resource, u.status, s.created_at, s.updated_at
  from scim_user s join app_user u on u.id = s.user_id`;

/** One page of a connection's SCIM Users (deleted ones are not served), and how many match. */
export async function listScimUsers(
  em: EntityManager,
  connectionId: string,
  filter: Filter | null,
  startIndex: number,
  count: number,
): Promise<{ total: number; rows: ScimUserRow[] }> {
  const params: unknown[] = [connectionId];
  const where = filter ? ` and ${whereOf(filter, params)}` : '';
  const base = `${SELECT} where s.connection_id = ? and s.deleted_at is null${where}`;
  const [counted] = await em.execute<{ n: string | number }[]>(
    `select count(*) as n from (${base}) x`,
    params,
  );
  const rows =
    count === 0
      ? []
      : await em.execute<ScimUserRow[]>(`${base} order by s.created_at, u.id offset ? limit ?`, [
          ...params,
          startIndex - 1,
          count,
        ]);
  return { total: Number(counted?.n ?? 0), rows };
}

export async function getScimUser(
  em: EntityManager,
  connectionId: string,
  userId: string,
): Promise<ScimUserRow | null> {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
  const rows = await em.execute<ScimUserRow[]>(
    `${SELECT} where s.connection_id = ? and s.deleted_at is null and u.id = ?`,
    [connectionId, userId],
  );
  return rows[0] ?? null;
}

/** The connection a SCIM bearer token belongs to (its hash), if it is live and SCIM is on. */
export async function connectionOfToken(
  em: EntityManager,
  tokenHash: string,
): Promise<{ tokenId: string; connectionId: string; lastUsedAt: Date | null } | null> {
  const rows = await em.execute<{ id: string; connection_id: string; last_used_at: Date | string | null }[]>(
    `select t.id, t.connection_id, t.last_used_at from scim_token t join idp_connection c on c.id = t.connection_id
      where t.token_hash = ? and t.revoked_at is null and c.scim_enabled and c.enabled`,
    [tokenHash],
  );
  const r = rows[0];
  return r
    ? {
        tokenId: r.id,
        connectionId: r.connection_id,
        lastUsedAt: r.last_used_at === null ? null : new Date(r.last_used_at),
      }
    : null;
}

export async function touchScimToken(em: EntityManager, id: string): Promise<void> {
  await em.execute('update scim_token set last_used_at = now() where id = ?', [id]);
}
