import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, createTestDatabase, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * SIGTERM on the real server under load: it stops accepting, the sign-ins in flight finish (held
 * in flight on purpose: a test transaction locks the license row every first sign-in takes a seat
 * from), the pools close and it exits 0. Past SHUTDOWN_GRACE_MS what is still running is cut short,
 * and the database shows each person fully provisioned or not at all.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let sql: pg.Pool;
let idp: TestIdp;
const LICENSE = 'Shutdown seats';

beforeAll(async () => {
  [db, idp] = await Promise.all([createTestDatabase(), TestIdp.create()]);
  sql = new pg.Pool({ connectionString: db.url, max: 3 });
});
afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

async function start(env: Record<string, string>): Promise<ServerProcess> {
  return startServerProcess({
    env: { DATABASE_URL: db.url, WORKER_THREADS: '1', DB_POOL_SIZE: '10', ...env },
  });
}

/** Holds the license row locked, so first sign-ins wait in their transaction until `release`. */
async function lockLicense(): Promise<{ release(): Promise<void> }> {
  const client = await sql.connect();
  await client.query('begin');
  await client.query('select 1 from license where name = $1 for update', [LICENSE]);
  return {
    release: async () => {
      await client.query('commit');
      client.release();
    },
  };
}

async function waitForLockWaiters(n: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const [row] = (
      await sql.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      )
    ).rows;
    if ((row?.n ?? 0) >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} sign-ins waiting on the lock`);
}

/** Each person all there (user, contact, seat, consumed assertion, CREATED event) or not at all. */
async function rowsOf(usernames: string[]) {
  const { rows } = await sql.query<{
    username: string;
    users: number;
    contacts: number;
    grants: number;
    assertions: number;
    created: number;
  }>(
    `select u.name as username,
            (select count(*)::int from app_user a where a.username = u.name) as users,
            (select count(*)::int from contact c join app_user a on a.id = c.user_id where a.username = u.name) as contacts,
            (select count(*)::int from license_grant g join app_user a on a.id = g.user_id where a.username = u.name) as grants,
            (select count(*)::int from consumed_assertion ca join provisioning_event e on e.assertion_id = ca.assertion_id
              where e.name_id = u.name and e.outcome = 'CREATED') as assertions,
            (select count(*)::int from provisioning_event e where e.name_id = u.name and e.outcome = 'CREATED') as created
       from unnest($1::text[]) as u(name)`,
    [usernames],
  );
  return rows;
}

async function seatsConsistent(): Promise<void> {
  const { rows } = await sql.query<{ used: number; grants: number }>(
    `select l.used, (select count(*)::int from license_grant g where g.license_id = l.id) as grants
       from license l where l.name = $1`,
    [LICENSE],
  );
  expect(rows[0]?.used).toBe(rows[0]?.grants);
}

describe('graceful shutdown of the real server', () => {
  it('on SIGTERM finishes the sign-ins in flight, refuses new connections and exits 0', async () => {
    const server = await start({ SHUTDOWN_GRACE_MS: '10000' });
    try {
      const connectionId = await createConnection(server.app, idp);
      await addEntraMappings(server.app, connectionId);
      await createLicense(server.app, LICENSE, 100);
      const warm = await postAcs(
        server.app,
        idp.response('warm@contoso.example', entraClaims('W', 'Arm', 'warm@contoso.example')),
      );
      expect(warm.status).toBe(200);

      const lock = await lockLicense();
      const users = Array.from({ length: 6 }, (_, i) => `inflight-${i}@contoso.example`);
      const inFlight = users.map((u) => postAcs(server.app, idp.response(u, entraClaims('In', 'Flight', u))));
      await waitForLockWaiters(users.length);

      server.kill('SIGTERM');
      for (let i = 0; i < 300 && !server.output().includes('shutting down: draining'); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(server.output()).toMatch(/shutting down: draining/);
      // No longer accepting: a new sign-in cannot even connect.
      const late = await postAcs(
        server.app,
        idp.response('late@contoso.example', entraClaims('La', 'Te', 'late@contoso.example')),
      ).then(
        () => 'answered',
        (e: NodeJS.ErrnoException) => e.code,
      );
      expect(late).toBe('ECONNREFUSED');
      // Still running: waiting for the sign-ins in flight.
      expect(server.child.exitCode).toBeNull();

      await lock.release();
      const results = await Promise.all(inFlight).catch((e) => {
        console.log(server.output());
        throw e;
      });
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.body.created).toBe(true);
      }
      const { code } = await server.exited;
      expect(code).toBe(0);
      expect(server.output()).toMatch(/shutting down: draining/);
      for (const r of await rowsOf(users)) {
        expect(r).toEqual({
          username: r.username,
          users: 1,
          contacts: 1,
          grants: 1,
          assertions: 1,
          created: 1,
        });
      }
      expect((await rowsOf(['late@contoso.example']))[0]?.users).toBe(0);
      await seatsConsistent();
    } finally {
      server.kill('SIGKILL');
    }
  }, 180_000);

  it('past SHUTDOWN_GRACE_MS cuts what is left short (exit 1), each sign-in whole or absent', async () => {
    const server = await start({ SHUTDOWN_GRACE_MS: '1000' });
    let lock: { release(): Promise<void> } | null = null;
    try {
      lock = await lockLicense();
      const users = Array.from({ length: 3 }, (_, i) => `cut-${i}@contoso.example`);
      const inFlight = users.map((u) =>
        postAcs(server.app, idp.response(u, entraClaims('Cut', 'Short', u))).then(
          (r) => r.status,
          (e: NodeJS.ErrnoException) => e.code ?? 'error',
        ),
      );
      await waitForLockWaiters(users.length);
      const signalled = Date.now();
      server.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(1);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(900);
      expect(server.output()).toMatch(/grace period over/);
      // Their connections were closed with no answer.
      for (const outcome of await Promise.all(inFlight))
        expect(outcome).toMatch(/ECONNRESET|socket hang up|error/);
      await lock.release();
      lock = null;
      // The database may still finish a statement whose client left; whatever it did is whole.
      await new Promise((r) => setTimeout(r, 500));
      for (const r of await rowsOf(users)) {
        expect([0, 1]).toContain(r.users);
        expect(r).toEqual({
          username: r.username,
          users: r.users,
          contacts: r.users,
          grants: r.users,
          assertions: r.users,
          created: r.users,
        });
      }
      await seatsConsistent();
    } finally {
      await lock?.release();
      server.kill('SIGKILL');
    }
  }, 180_000);
});

describe('draining, in process', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RETRY_AFTER_SECONDS: '7' });
  });
  afterAll(() => t?.close());

  it('answers new requests 503 SHUTTING_DOWN with Retry-After and Connection: close, and /readyz 503', async () => {
    expect((await t.app.fetch(new Request(`${PUBLIC_URL}/readyz`))).status).toBe(200);
    const drained = await t.app.drain(1000);
    expect(drained).toEqual({ unfinished: 0 });
    const res = await postAcs(t.app, 'anything');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'SHUTTING_DOWN' } });
    const raw = await t.app.fetch(new Request(`${PUBLIC_URL}/graphql`, { method: 'POST', body: '{}' }));
    expect(raw.status).toBe(503);
    expect(raw.headers.get('retry-after')).toBe('7');
    expect(raw.headers.get('connection')).toBe('close');
    const ready = await t.app.fetch(new Request(`${PUBLIC_URL}/readyz`));
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('7');
    expect((await t.app.fetch(new Request(`${PUBLIC_URL}/healthz`))).status).toBe(200);
  });
});
