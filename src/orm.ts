import path from 'node:path';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { migrationsList } from '../migrations/index.js';
import { AdminAuditEvent } from './audit/admin-audit.entity.js';
import { ProvisioningEvent } from './audit/provisioning-event.entity.js';
import { AdminToken } from './auth/admin-token.entity.js';
import type { Config } from './config/config.js';
import { IdpConnection } from './connections/connection.entity.js';
import { startEmbeddedPostgres } from './db/embedded.js';
import { withMigrationLock } from './db/migration-lock.sql.js';
import { License, LicenseGrant } from './licenses/license.entity.js';
import { LicenseRule } from './licenses/license-rule.entity.js';
import { AttributeMapping } from './mapping/mapping.entity.js';
import { SignInSample } from './mapping/sign-in-sample.entity.js';
import { ConsumedAssertion } from './provisioning/consumed-assertion.entity.js';
import { ScimGroup, ScimGroupMember, ScimToken, ScimUser } from './scim/scim.entity.js';
import { AuthnRequest } from './sign-in/authn-request.entity.js';
import { ContactFieldDefinition } from './users/contact-field.entity.js';
import { Role, RoleRule, UserRole } from './users/role.entity.js';
import { Session } from './users/session.entity.js';
import { Contact, User } from './users/user.entity.js';

/**
 * The ORM registry: every entity, the ORM configuration and the migrations, and the database the
 * process opens. It sits at the top beside app.ts because it names every domain; the domains
 * themselves import only the entities they relate to.
 */

/** The explicit entity list: no folder scanning, so tsx, vitest and compiled node agree. */
export const entities = [
  IdpConnection,
  ConsumedAssertion,
  AuthnRequest,
  User,
  Contact,
  License,
  LicenseGrant,
  AttributeMapping,
  Session,
  ProvisioningEvent,
  AdminAuditEvent,
  SignInSample,
  LicenseRule,
  Role,
  RoleRule,
  UserRole,
  ContactFieldDefinition,
  AdminToken,
  ScimToken,
  ScimUser,
  ScimGroup,
  ScimGroupMember,
];

export interface OrmOptions {
  databaseUrl: string;
  /** Connections in the pool. */
  poolSize?: number;
  debug?: boolean;
  /** Called with each SQL statement the ORM runs (tests count statements with it). */
  onQuery?: (sql: string) => void;
  /** Where the driver's (knex's) own warnings go, e.g. a pooled connection lost; default the console. */
  driverLog?: (level: 'warn' | 'error', message: string) => void;
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
    driverOptions: {
      connection: { connectionTimeoutMillis: 5_000 },
      ...(opts.driverLog ? { log: driverLogger(opts.driverLog) } : {}),
    },
  });
}

const driverLogger = (log: NonNullable<OrmOptions['driverLog']>) => ({
  warn: (m: unknown) => log('warn', String(m)),
  error: (m: unknown) => log('error', String(m)),
  deprecate: (m: unknown) => log('warn', String(m)),
  debug: () => {},
});

export async function openOrm(opts: OrmOptions & { migrate?: boolean }): Promise<MikroORM> {
  const orm = await MikroORM.init(ormConfig(opts));
  if (opts.migrate !== false) {
    try {
      await withMigrationLock(opts.databaseUrl, () => orm.getMigrator().up());
    } catch (e) {
      await orm.close();
      throw e;
    }
  }
  return orm;
}

export interface Database {
  orm: MikroORM;
  embedded: boolean;
  close(): Promise<void>;
}

/**
 * Opens the configured database and applies pending migrations: DATABASE_URL when set, otherwise
 * the embedded PostgreSQL kept in DATA_DIR (locked against a second process).
 */
export async function openDatabase(
  config: Config,
  log: (msg: string) => void,
  driverLog?: OrmOptions['driverLog'],
): Promise<Database> {
  if (config.databaseUrl) {
    const orm = await openOrm({
      databaseUrl: config.databaseUrl,
      poolSize: config.dbPoolSize,
      ...(driverLog ? { driverLog } : {}),
    });
    return { orm, embedded: false, close: () => orm.close() };
  }
  const pg = await startEmbeddedPostgres({ dataDir: path.resolve(config.dataDir, 'pglite'), log });
  try {
    // One connection: PGlite runs one transaction at a time anyway, and several socket connections
    // can interleave large queries (see test/integration/embedded-db.test.ts).
    const orm = await openOrm({ databaseUrl: pg.url, poolSize: 1, ...(driverLog ? { driverLog } : {}) });
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
