import pg from 'pg';

/**
 * Checks once, before any test file, that the PostgreSQL the tests use is reachable, so a missing
 * server fails the run with one clear line instead of a timeout per test.
 */
export default async function globalSetup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env.TEST_DATABASE_URL = url;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (e) {
    throw new Error(`tests need PostgreSQL at ${url} (set TEST_DATABASE_URL): ${(e as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
