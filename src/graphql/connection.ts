import type { EntityManager } from '@mikro-orm/postgresql';
import { countRows, type KeysetQuery, keysetPage, type PageArgs } from './keyset.sql.js';

/** A Relay connection result whose totalCount runs only when a client selects it. */
export interface CountedConnection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: () => Promise<number>;
}

/** Runs a keyset page and maps each raw row to its node. */
export async function connectionOf<T>(
  em: EntityManager,
  query: KeysetQuery,
  args: PageArgs,
  toNode: (row: Record<string, unknown>) => T,
): Promise<CountedConnection<T>> {
  const page = await keysetPage<Record<string, unknown> & { __key: unknown; __id: string }>(em, query, args);
  const edges = page.rows.map((row, i) => {
    const { __key: _key, __id: _id, ...rest } = row;
    return { cursor: page.cursors[i] as string, node: toNode(rest) };
  });
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => countRows(em, query),
  };
}

/** `ilike` pattern for a user's search text: their % and _ are literal. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
