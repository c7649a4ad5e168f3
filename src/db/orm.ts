import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { migrationsList } from '../../migrations/index.js';
import { entities } from './entities.js';

export interface OrmOptions {
  databaseUrl: string;
  /** Connections in the pool. */
  poolSize?: number;
  debug?: boolean;
  /** Called with each SQL statement the ORM runs (tests count statements with it). */
  onQuery?: (sql: string) => void;
}

export function ormConfig(opts: OrmOptions): Options {
  return defineConfig({
    clientUrl: opts.databaseUrl,
    entities,
    extensions: [Migrator],
    // Migrations are listed in code (migrations/index.ts), append-only: the same list runs under
    // tsx, vitest and compiled node, with no folder globbing.
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    pool: { min: 0, max: opts.poolSize ?? 10 },
    // Entities are declared with defineEntity: no reflection, no decorators.
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
    debug: opts.onQuery ? ['query'] : (opts.debug ?? false),
    ...(opts.onQuery ? { logger: opts.onQuery, colors: false } : {}),
    // Connection failures should surface quickly (readiness, sign-in errors), not hang.
    driverOptions: { connection: { connectionTimeoutMillis: 5_000 } },
  });
}

export async function openOrm(opts: OrmOptions & { migrate?: boolean }): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(opts));
  if (opts.migrate !== false) {
    await orm.getMigrator().up();
  }
  return orm;
}
