import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/config.js';
import { startEmbeddedPostgres } from './embedded.js';
import { openOrm } from './orm.js';

export interface Database {
  orm: MikroORM;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured database and applies pending migrations: DATABASE_URL when set, otherwise
 * the embedded PostgreSQL kept in DATA_DIR (locked against a second process).
 */
export async function openDatabase(config: Config, log: (msg: string) => void): Promise<Database> {
  if (config.databaseUrl) {
    const orm = await openOrm({ databaseUrl: config.databaseUrl, poolSize: config.dbPoolSize });
    return { orm, embedded: false, close: () => orm.close() };
  }
  const pg = await startEmbeddedPostgres({ dataDir: path.resolve(config.dataDir, 'pglite'), log });
  try {
    // One connection: PGlite runs one transaction at a time anyway, and several socket connections
    // can interleave large queries (see test/embedded-db.test.ts).
    const orm = await openOrm({ databaseUrl: pg.url, poolSize: 1 });
    return {
      orm,
      embedded: true,
      close: async () => {
        await orm.close();
        await pg.stop();
      },
    };
  } catch (e) {
    await pg.stop();
    throw e;
  }
}
