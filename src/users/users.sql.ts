import type { EntityManager } from '@mikro-orm/postgresql';
import { plainRows } from '../db/plain.js';
import type { KeysetQuery } from '../graphql/keyset.sql.js';
import { Contact, User } from './user.entity.js';

/**
 * The directory's plain-row readers: what GraphQL lists and their DataLoaders read, as read-only
 * objects shaped like the entities (see db/plain.ts), and the keyset queries of the two lists.
 */

type Row = Record<string, unknown>;

export async function usersByIds(em: EntityManager, ids: readonly string[]): Promise<User[]> {
  return (await em.execute<Row[]>('select * from app_user where id in (?)', [ids])).map(plainRows(em, User));
}

export async function contactsByUserIds(em: EntityManager, ids: readonly string[]): Promise<Contact[]> {
  return (await em.execute<Row[]>('select * from contact where user_id in (?)', [ids])).map(
    plainRows(em, Contact),
  );
}

/** The SQL the trigram index in the migrations covers: keep the two in step. */
const CONTACT_SEARCH_EXPR = `(coalesce(c.full_name, '') || ' ' || coalesce(c.email, ''))`;
const CONTACT_NAME_KEY = `lower(coalesce(c.full_name, ''))`;

export interface ContactListFilter {
  /** An ilike pattern over the name and email. */
  searchPattern?: string | null;
  department?: string | null;
  company?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  updatedAfter?: Date | null;
  updatedBefore?: Date | null;
  /** Admin-defined field values the contact must hold (JSON containment, served by the GIN index). */
  custom?: Record<string, unknown> | null;
}

export function contactList(
  f: ContactListFilter,
  order: { byName: boolean; descending: boolean },
): KeysetQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [value, sql] of [
    [f.searchPattern, `${CONTACT_SEARCH_EXPR} ilike ?`],
    [f.department, 'c.department = ?'],
    [f.company, 'c.company = ?'],
    [f.createdAfter, 'c.created_at >= ?'],
    [f.createdBefore, 'c.created_at < ?'],
    [f.updatedAfter, 'c.updated_at >= ?'],
    [f.updatedBefore, 'c.updated_at < ?'],
    [f.custom ? JSON.stringify(f.custom) : null, 'c.custom @> ?::jsonb'],
  ] as const) {
    if (value !== null && value !== undefined) {
      where.push(sql);
      params.push(value);
    }
  }
  return {
    select: 'c.*',
    from: 'from contact c',
    where,
    params,
    sortExpr: order.byName ? CONTACT_NAME_KEY : 'c.created_at',
    idExpr: 'c.id',
    descending: order.descending,
  };
}

export interface UserListFilter {
  /** An ilike pattern over the username. */
  searchPattern?: string | null;
  status?: string | null;
  connectionId?: string | null;
  lastSignInAfter?: Date | null;
  lastSignInBefore?: Date | null;
}

const USER_SORT = {
  USERNAME: 'u.username',
  CREATED_AT: 'u.created_at',
  // Never signed in sorts first ascending; keyset keys must not be null.
  LAST_SIGN_IN_AT: `coalesce(u.last_login_at, 'epoch'::timestamptz)`,
} as const;

export function userList(
  f: UserListFilter,
  order: { field: keyof typeof USER_SORT; descending: boolean },
): KeysetQuery {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [value, sql] of [
    [f.searchPattern, 'u.username ilike ?'],
    [f.status, 'u.status = ?'],
    [f.connectionId, 'u.connection_id = ?'],
    [f.lastSignInAfter, 'u.last_login_at >= ?'],
    [f.lastSignInBefore, 'u.last_login_at < ?'],
  ] as const) {
    if (value !== null && value !== undefined) {
      where.push(sql);
      params.push(value);
    }
  }
  return {
    select: 'u.*',
    from: 'from app_user u',
    where,
    params,
    sortExpr: USER_SORT[order.field],
    idExpr: 'u.id',
    descending: order.descending,
  };
}
