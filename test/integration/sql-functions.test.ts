import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The database functions' current text lives in `.sql` files beside the code that calls them; the
 * migrations hold copies (append-only). This holds the two in step, as schema-drift does for
 * GraphQL: applied on a migrated database, the files change no function, and they define every
 * function the migrations leave (none left over).
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sqlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sqlFiles(full);
    return name.endsWith('.sql') ? [full] : [];
  });
}

const FUNCTIONS = `
  select p.proname as name, pg_get_functiondef(p.oid) as definition
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname = 'public'
    and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
  order by p.proname`;

let t: TestApp;
let client: pg.Client;
beforeAll(async () => {
  t = await createTestApp();
  client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
});
afterAll(async () => {
  await client.end();
  await t.close();
});

const definitions = async (): Promise<Record<string, string>> =>
  Object.fromEntries(
    (await client.query<{ name: string; definition: string }>(FUNCTIONS)).rows.map((r) => [
      r.name,
      r.definition,
    ]),
  );

describe('database functions', () => {
  const files = sqlFiles(SRC);

  it('are kept in .sql files', () => {
    expect(files.map((f) => path.relative(SRC, f)).sort()).toEqual([
      'connections/config-version.sql',
      'licenses/seats.sql',
      'provisioning/provisioning.sql',
    ]);
  });

  it('are, after the migrations, exactly what the .sql files say (add a migration when a file changes)', async () => {
    const migrated = await definitions();
    await client.query('begin');
    try {
      for (const file of files) await client.query(readFileSync(file, 'utf8'));
      expect(await definitions()).toEqual(migrated);
    } finally {
      await client.query('rollback');
    }
  });

  it('are all defined in the files: none is left over from an earlier migration', async () => {
    const defined = files
      .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/create or replace function\s+(\w+)\s*\(/gi)])
      .map((m) => m[1])
      .sort();
    expect(Object.keys(await definitions()).sort()).toEqual(defined);
  });
});
