import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../errors.js';

/**
 * Keyset (cursor) pagination over one SQL source: pages are found by comparing (sort key, id) with
 * the cursor's, so page 2,000 costs what page 1 costs (no OFFSET), given an index on (key, id).
 */
export interface KeysetQuery {
  /** `from … [join …]`; the rows' id column is `idExpr`. */
  from: string;
  /** SQL conditions (ANDed) with `?` placeholders, and their parameters. */
  where: string[];
  params: unknown[];
  /** Expression of the sort key; never null (coalesce it). */
  sortExpr: string;
  idExpr: string;
  descending: boolean;
  select: string;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Page<Row> {
  rows: Row[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const MAX_PAGE = 100;

const encode = (key: unknown, id: unknown): string =>
  Buffer.from(JSON.stringify([key, id])).toString('base64url');

function decode(cursor: string, path: string): [unknown, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through to the typed refusal
  }
  throw new AppError('VALIDATION_FAILED', `${path}: not a cursor of this list`, { path: [path] });
}

export async function keysetPage<Row extends { __key: unknown; __id: string }>(
  em: EntityManager,
  q: KeysetQuery,
  args: PageArgs,
): Promise<Page<Row>> {
  const backward = args.last != null && args.first == null;
  const size = backward ? args.last! : (args.first ?? 20);
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE) {
    throw new AppError('VALIDATION_FAILED', `${backward ? 'last' : 'first'}: between 0 and ${MAX_PAGE}`, {
      path: [backward ? 'last' : 'first'],
    });
  }
  const where = [...q.where];
  const params = [...q.params];
  // Reading backwards flips the order; the page is reversed back below.
  const desc = q.descending !== backward;
  for (const [cursor, name, isAfter] of [
    [args.after, 'after', true],
    [args.before, 'before', false],
  ] as const) {
    if (!cursor) continue;
    const [key, id] = decode(cursor, name);
    const greater = isAfter !== q.descending;
    where.push(`(${q.sortExpr}, ${q.idExpr}) ${greater ? '>' : '<'} (?, ?::uuid)`);
    params.push(key, id);
  }
  const dir = desc ? 'desc' : 'asc';
  const rows = await em.execute<Row[]>(
    `select ${q.select}, ${q.sortExpr} as "__key", ${q.idExpr} as "__id" ${q.from}
     ${where.length ? `where ${where.join(' and ')}` : ''}
     order by ${q.sortExpr} ${dir}, ${q.idExpr} ${dir} limit ${size + 1}`,
    params,
  );
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (backward) page.reverse();
  return {
    rows: page,
    cursors: page.map((r) => encode(r.__key instanceof Date ? r.__key.toISOString() : r.__key, r.__id)),
    hasNextPage: backward ? Boolean(args.before) : more,
    hasPreviousPage: backward ? more : Boolean(args.after),
  };
}

export async function countRows(
  em: EntityManager,
  q: Pick<KeysetQuery, 'from' | 'where' | 'params'>,
): Promise<number> {
  const [row] = await em.execute<{ n: string }[]>(
    `select count(*) as n ${q.from} ${q.where.length ? `where ${q.where.join(' and ')}` : ''}`,
    q.params,
  );
  return Number(row?.n ?? 0);
}
