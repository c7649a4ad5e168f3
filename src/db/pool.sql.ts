import type { MikroORM } from '@mikro-orm/postgresql';

/** The database connection pool as an operator watches it. */
export interface DbPoolStats {
  /** Connections lent out to a query or a transaction. */
  inUse: number;
  /** Open connections nobody holds. */
  idle: number;
  /** Callers waiting for a connection (the pool is exhausted when this grows). */
  waiting: number;
  /** The pool's ceiling (DB_POOL_SIZE). */
  max: number;
}

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  max: number;
}

/**
 * Reads MikroORM's knex (tarn) pool. Lives in a `.sql.ts` file because the house keeps every touch
 * of knex in one (test/unit/house.test.ts); it runs no SQL. null when the pool is not open yet.
 */
export function dbPoolStats(orm: MikroORM): DbPoolStats | null {
  const pool = (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
  if (!pool) return null;
  return { inUse: pool.numUsed(), idle: pool.numFree(), waiting: pool.numPendingAcquires(), max: pool.max };
}
