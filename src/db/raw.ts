import type { MikroORM } from '@mikro-orm/postgresql';
import type { PoolClient, QueryResultRow } from 'pg';

/** The part of a node-postgres client the hot path uses. */
export interface RawClient {
  query<R extends QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[] }>;
}

interface KnexClientPool {
  acquireConnection(): Promise<PoolClient>;
  releaseConnection(connection: PoolClient): Promise<void>;
}

/**
 * Runs `work` on one connection of the ORM's own pool (so the embedded database keeps its single
 * connection), talking node-postgres directly: for the sign-in, whose SQL is written by hand anyway
 * and runs on every sign-in, the query builder's per-statement work is pure overhead.
 */
export async function withRawClient<T>(orm: MikroORM, work: (client: RawClient) => Promise<T>): Promise<T> {
  const pool = orm.em.getKnex().client as unknown as KnexClientPool;
  const client = await pool.acquireConnection();
  try {
    return await work(client);
  } finally {
    await pool.releaseConnection(client);
  }
}
