import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { pino } from 'pino';
import { type App, createApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { openDatabase, openOrm } from '../../src/orm.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const PUBLIC_URL = 'https://sp.jitprov.test';

/** A fresh PostgreSQL database for one test file, dropped at the end. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `jitprov_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

let sharedPool: Promise<Workers> | undefined;

/** The worker threads with the repository's plugins, started once per test file (they stop with its process). */
export function sharedWorkers(): Promise<Workers> {
  sharedPool ??= startWorkers({ size: 2 });
  return sharedPool;
}

export interface TestApp {
  app: App;
  orm: MikroORM;
  config: Config;
  databaseUrl: string;
  /** A raw SQL client on the same database, for assertions. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A second app instance (own pool) on the same database: another server process, in effect. */
  spawnPeer(): Promise<App>;
  close(): Promise<void>;
}

export async function createTestApp(
  env: Record<string, string> = {},
  onQuery?: (sql: string) => void,
  /** Worker threads of the test's own (default: the file's shared pool). */
  ownWorkers?: Workers,
): Promise<TestApp> {
  const db = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL,
    ADMIN_TOKEN,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'silent',
    DB_POOL_SIZE: '10',
    ...env,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const orm = await openOrm({
    databaseUrl: db.url,
    poolSize: config.dbPoolSize,
    ...(onQuery ? { onQuery } : {}),
  });
  const workers = ownWorkers ?? (await sharedWorkers());
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const peers: MikroORM[] = [];
  const app = createApp({ config, orm, logger, workers });
  return {
    app,
    orm,
    config,
    databaseUrl: db.url,
    sql: async (text, params) => (await pool.query(text, params)).rows,
    spawnPeer: async () => {
      const peerOrm = await openOrm({ databaseUrl: db.url, poolSize: config.dbPoolSize, migrate: false });
      peers.push(peerOrm);
      return createApp({ config, orm: peerOrm, logger, workers });
    },
    close: async () => {
      await Promise.all(peers.map((p) => p.close()));
      await orm.close();
      await pool.end();
      await db.drop();
    },
  };
}

export interface GqlResult<T = Record<string, unknown>> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Calls the GraphQL endpoint in process. */
export async function gql<T = Record<string, unknown>>(
  app: Pick<App, 'fetch'>,
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = ADMIN_TOKEN,
): Promise<GqlResult<T>> {
  const res = await app.fetch(
    new Request(`${PUBLIC_URL}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return (await res.json()) as GqlResult<T>;
}

/** Posts a SAMLResponse to the HTTP-POST ACS as the browser would, asking for JSON. */
export async function postAcs(
  app: Pick<App, 'fetch'>,
  samlResponse: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await app.fetch(
    new Request(`${PUBLIC_URL}/saml/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }).toString(),
    }),
  );
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The database id inside a Relay global id (`base64("Type:id")`). */
export const dbId = (globalId: string): string =>
  Buffer.from(globalId, 'base64').toString('utf8').split(':')[1] ?? '';

/**
 * The app on the embedded database (PGlite), as plain `npm start` runs it: one connection, its own
 * data folder (removed at close). For the read paths the default road must not break unseen;
 * races belong on real PostgreSQL (createTestApp).
 */
export async function createEmbeddedTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'jitprov-embedded-app-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL,
    ADMIN_TOKEN,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const db = await openDatabase(config, () => {});
  const url = db.orm.config.get('clientUrl') as string;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const workers = await sharedWorkers();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  return {
    app: createApp({ config, orm: db.orm, logger, workers }),
    orm: db.orm,
    config,
    databaseUrl: url,
    sql: async (text, params) => (await client.query(text, params)).rows,
    spawnPeer: () => Promise.reject(new Error('the embedded database serves one process')),
    close: async () => {
      await client.end();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
