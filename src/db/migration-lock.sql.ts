import pg from 'pg';

// Any fixed number: the session-level advisory lock that servers starting together take in turn.
const MIGRATION_LOCK = 7_306_174_001;

/**
 * Runs `migrate` (the pending migrations) while holding an advisory lock, on a connection of its own,
 * so that processes starting on a fresh database together (a cluster, a deploy of several servers)
 * do not race to create the same tables: the first applies them, the others wait, then find
 * nothing to do.
 */
export async function withMigrationLock<T>(databaseUrl: string, migrate: () => Promise<T>): Promise<T> {
  const lock = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    return await migrate();
  } finally {
    // Ending the session releases the lock, also when a migration failed.
    await lock.end().catch(() => {});
  }
}
