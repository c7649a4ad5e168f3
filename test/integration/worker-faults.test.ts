/**
 * Issue 16: a worker thread dying under sign-ins — in the middle of a SAML validation, or in the
 * middle of a plugin transform — costs the people in flight nothing, writes nothing half, and the
 * pool serves again. The threads are killed from outside (Worker#terminate, what an out-of-memory
 * abort or a native fault looks like to the pool), on two app instances sharing one database.
 * Real PostgreSQL, real worker threads, real signed responses.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, postAcs, type TestApp } from '../helpers/test-app.js';

// Every worker thread of this test file's pool, as it is handed a job: the threads to kill.
const threads = new Set<Worker>();
const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
  threads.add(this);
  return post.apply(this, args);
};
const gone = new WeakSet<Worker>();

/**
 * Terminates a working thread every `everyMs` (at most `max` times) until `done` settles; resolves
 * with the count. A thread is only known once it was handed a job, so a replacement still starting
 * is left alone (killing those would only test an empty pool).
 */
async function killWhile(done: Promise<unknown>, everyMs: number, max: number): Promise<number> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let kills = 0;
  while (!finished && kills < max) {
    await new Promise((r) => setTimeout(r, everyMs));
    const live = [...threads].filter((w) => !gone.has(w));
    const victim = live[kills % Math.max(1, live.length)];
    if (!victim || finished) continue;
    gone.add(victim);
    threads.delete(victim);
    void victim.terminate();
    kills++;
  }
  return kills;
}

let t: TestApp;
let peer: App;
let workers: Workers;
let idp: TestIdp;
const SEATS = 25;

beforeAll(async () => {
  // A pool of this file's own, with room for the slow transform below on a loaded machine (the
  // expression limit is 100 ms by default; the suite runs many files at once on two cores).
  workers = await startWorkers({ size: 2, timeoutMs: 2000, transformDeadlineMs: 3000 });
  t = await createTestApp({}, undefined, workers);
  peer = await t.spawnPeer();
  idp = await TestIdp.create();
  const connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
  // A transform that takes a few milliseconds of a worker, so that kills land inside transforms too;
  // when it cannot run, the default is written (onFailure DEFAULT).
  const m = await addMapping(t.app, connectionId, EntraClaims.displayName, 'department', false, {
    kind: 'TRANSFORM',
    plugin: 'expression',
    params: {
      expression: '$string($count([1..6000][$ % 7 = 0])) & " " & $value',
    },
    defaultValue: 'unknown',
    onFailure: 'DEFAULT',
  });
  expect(JSON.stringify(m)).toContain('"__typename":"AttributeMapping"');
  await createLicense(t.app, 'CRM', SEATS);
});
afterAll(async () => {
  await t.close();
  await workers.close();
});

/** What the database holds for these people: one user each at most, each whole. */
async function rowsOf(prefix: string) {
  const users = await t.sql<{ username: string; department: string | null; email: string | null }>(
    `select u.username, c.department, c.email from app_user u left join contact c on c.user_id = u.id
     where u.username like $1 order by u.username`,
    [`${prefix}%`],
  );
  const [dupes] = await t.sql<{ n: string }>(
    `select count(*) as n from (select username from app_user where username like $1 group by username having count(*) > 1) d`,
    [`${prefix}%`],
  );
  const [seats] = await t.sql<{ used: string }>(
    `select count(*) as used from license_grant ul join license l on l.id = ul.license_id join app_user u on u.id = ul.user_id
     where l.name = 'CRM' and u.username like $1`,
    [`${prefix}%`],
  );
  return { users, duplicates: Number(dupes!.n), seats: Number(seats!.used) };
}

describe('worker threads dying under sign-ins', () => {
  it('validations and transforms in flight survive their worker being killed, over and over', async () => {
    const people = Array.from({ length: 60 }, (_, i) => `wf${String(i).padStart(2, '0')}@contoso.example`);
    const responses = people.map((p) => idp.response(p, entraClaims('Worker', 'Fault', p)));
    // Warm the pool: both threads known to the killer before the storm.
    expect(
      (
        await postAcs(
          t.app,
          idp.response('wf-warm@contoso.example', entraClaims('W', 'F', 'wf-warm@contoso.example')),
        )
      ).status,
    ).toBe(200);
    const before = workers.stats().restarts;

    const all = Promise.all(responses.map((r, i) => postAcs(i % 2 === 0 ? t.app : peer, r)));
    const kills = await killWhile(all, 100, 6);
    const results = await all;
    expect(kills).toBeGreaterThanOrEqual(3);

    // Each answer is a sign-in or a typed refusal: a validation whose worker died once runs again;
    // one that meets a second death is refused (INTERNAL), never half-done.
    const refused = results.filter((r) => r.status !== 200);
    for (const r of refused) {
      expect(r.status).toBe(500);
      expect((r.body.error as { code: string }).code).toBe('INTERNAL');
    }
    expect(refused.length).toBeLessThan(results.length / 4);
    for (const r of results.filter((x) => x.status === 200)) expect(r.body.created).toBe(true);

    const rows = await rowsOf('wf');
    expect(rows.duplicates).toBe(0);
    const signedIn = new Set(results.flatMap((r, i) => (r.status === 200 ? [people[i] as string] : [])));
    const stored = rows.users.filter((u) => u.username !== 'wf-warm@contoso.example');
    expect(new Set(stored.map((u) => u.username))).toEqual(signedIn);
    // Every stored person is whole: a contact with the mapped email and a department that is the
    // transform's value, or its default where the transform's worker died.
    for (const u of stored) {
      expect(u.email).toBe(u.username);
      expect(u.department === 'unknown' || /^\d+ Worker Fault$/.test(u.department ?? '')).toBe(true);
    }
    expect(rows.seats).toBe(Math.min(SEATS, stored.length + 1));

    // The pool replaced what was killed, and serves: a refused person signs in with the same
    // response (nothing of it was consumed), and every response already accepted stays a replay.
    const stats = workers.stats();
    expect(stats.restarts).toBeGreaterThan(before);
    expect(stats.crashes.transforms).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      const again = await postAcs(i % 2 === 0 ? peer : t.app, responses[i] as string);
      if (r.status === 200) {
        expect(again.status).toBe(409);
        expect((again.body.error as { code: string }).code).toBe('SAML_REPLAY');
      } else {
        expect(again.status).toBe(200);
        expect(again.body.created).toBe(true);
      }
    }
    const after = await rowsOf('wf');
    expect(after.duplicates).toBe(0);
    expect(after.users).toHaveLength(people.length + 1);
    expect(after.seats).toBe(SEATS);
  }, 120_000);

  it('a validation whose worker dies runs again on another; a second death refuses it cleanly', async () => {
    // Large responses (2,000 attribute values, ~200 KB): their validation takes the worker long
    // enough that the kills land inside it. Another connection, without the slow transform.
    const big = await TestIdp.create();
    await addEntraMappings(t.app, await createConnection(t.app, big));
    const filler = Array.from({ length: 2000 }, (_, i) => `value-${i}-${'x'.repeat(40)}`);
    const people = Array.from({ length: 40 }, (_, i) => `wv${String(i).padStart(2, '0')}@contoso.example`);
    const responses = people.map((p) =>
      big.response(p, { ...entraClaims('Valid', 'Ation', p), 'urn:example:filler': filler }),
    );
    const warm = 'wv-warm@contoso.example';
    expect((await postAcs(t.app, big.response(warm, entraClaims('W', 'V', warm)))).status).toBe(200);
    const before = workers.stats().crashes.validation;

    const all = Promise.all(responses.map((r, i) => postAcs(i % 2 === 0 ? t.app : peer, r)));
    const kills = await killWhile(all, 60, 5);
    const results = await all;
    expect(kills).toBeGreaterThanOrEqual(3);
    const crashed = workers.stats().crashes.validation - before;
    expect(crashed).toBeGreaterThan(0);
    // Only a validation that met two deaths is refused: fewer refusals than validations crashed.
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.length).toBeLessThan(crashed);
    for (const r of refused) {
      expect(r.status).toBe(500);
      expect((r.body.error as { code: string }).code).toBe('INTERNAL');
    }
    const rows = await rowsOf('wv');
    expect(rows.duplicates).toBe(0);
    expect(rows.users.filter((u) => u.username !== 'wv-warm@contoso.example')).toHaveLength(
      results.filter((r) => r.status === 200).length,
    );
    for (const u of rows.users) expect(u.email).toBe(u.username);
  }, 120_000);
});
