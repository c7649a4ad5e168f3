import { availableParallelism } from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCluster } from '../../src/config/cluster-plan.js';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { CLUSTER_ENTRY, startServerProcess } from '../helpers/server-process.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { createTestDatabase, PUBLIC_URL, postAcs } from '../helpers/test-app.js';

const METRICS_TOKEN = 'cluster-metrics-token-0123456789';

/**
 * `npm run start:cluster` with two processes on one port and one database: sign-ins land on both
 * (the request log names the process), a process SIGKILLed is replaced while the other serves,
 * and SIGTERM stops them all (exit 0).
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let idp: TestIdp;

beforeAll(async () => {
  [db, idp] = await Promise.all([createTestDatabase(), TestIdp.create()]);
});
afterAll(() => db?.drop());

/** pids of the processes that logged a successful ACS request. */
const acsPids = (output: string): number[] =>
  output
    .split('\n')
    .filter((l) => l.includes('"path":"/saml/acs"') && l.includes('"status":200'))
    .map((l) => Number(/"pid":(\d+)/.exec(l)?.[1]));

describe('planCluster', () => {
  it('sizes threads so that processes × threads never exceed the cores', () => {
    expect(planCluster(8, {})).toEqual({ processes: 8, threads: 1, cores: 8 });
    expect(planCluster(8, { CLUSTER_PROCESSES: '2' })).toEqual({ processes: 2, threads: 4, cores: 8 });
    expect(planCluster(8, { CLUSTER_PROCESSES: '3' })).toEqual({ processes: 3, threads: 2, cores: 8 });
    expect(planCluster(2, { CLUSTER_PROCESSES: '4' })).toEqual({ processes: 4, threads: 1, cores: 2 });
    expect(planCluster(4, { CLUSTER_PROCESSES: '2', WORKER_THREADS: '3' }).threads).toBe(3);
    expect(() => planCluster(4, { CLUSTER_PROCESSES: 'many' })).toThrow(/CLUSTER_PROCESSES/);
  });
});

describe('npm run start:cluster', () => {
  it('runs two processes on one port, signs in through both, survives a SIGKILLed one, stops on SIGTERM', async () => {
    const server = await startServerProcess({
      entry: CLUSTER_ENTRY,
      env: { DATABASE_URL: db.url, CLUSTER_PROCESSES: '2', DB_POOL_SIZE: '4', METRICS_TOKEN },
      listening: 2,
    });
    try {
      const out = server.output();
      const ports = [...out.matchAll(/"url":"http:\/\/127\.0\.0\.1:(\d+)".*jitprov listening/g)].map(
        (m) => m[1],
      );
      expect(ports.length).toBe(2);
      expect(new Set(ports).size).toBe(1);
      const threads = [...out.matchAll(/"threads":(\d+).*workers ready/g)].map((m) => Number(m[1]));
      expect(threads).toEqual(Array(2).fill(Math.max(1, Math.floor(availableParallelism() / 2))));

      const connectionId = await createConnection(server.app, idp);
      await addEntraMappings(server.app, connectionId);
      await createLicense(server.app, 'Cluster seats', 5);
      const users = Array.from({ length: 12 }, (_, i) => `cluster-${i}@contoso.example`);
      const results = await Promise.all(
        users.map((u) => postAcs(server.app, idp.response(u, entraClaims('Clu', 'Ster', u)))),
      );
      expect(results.map((r) => r.status)).toEqual(users.map(() => 200));
      const pids = new Set(acsPids(server.output()));
      expect(pids.size).toBe(2);

      // Whichever process a scrape reaches, it shows the whole cluster.
      for (let i = 0; i < 4; i++) {
        const res = await server.app.fetch(
          new Request(`${PUBLIC_URL}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }),
        );
        expect(res.status).toBe(200);
        const text = await res.text();
        const created = /^jitprov_sign_ins_total\{[^}]*outcome="created"[^}]*\} (\d+)$/m.exec(text)?.[1];
        expect(Number(created)).toBe(12);
        expect(text).toMatch(/^jitprov_license_seats_used\{license="Cluster seats"[^}]*\} 5$/m);
        expect(text).toMatch(/^jitprov_worker_threads\{state="alive"\} 2$/m);
      }

      // One process dies: the other serves meanwhile, and the primary starts a third.
      const [victim] = [...pids];
      process.kill(victim as number, 'SIGKILL');
      // Once the primary knows (node:cluster may still hand a new connection to a process it has not
      // seen die, and that connection is lost with it; a client would retry).
      for (let i = 0; i < 200 && !/server process died/.test(server.output()); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const again = await Promise.all(
        users.map((u) => postAcs(server.app, idp.response(u, entraClaims('Clu', 'Ster', u)))),
      );
      expect(again.map((r) => r.status)).toEqual(users.map(() => 200));
      for (let i = 0; i < 200 && (server.output().match(/jitprov listening/g) ?? []).length < 3; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(server.output()).toMatch(/server process died: starting another/);
      expect((server.output().match(/jitprov listening/g) ?? []).length).toBe(3);

      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      try {
        const users_ = await sql.query('select count(*)::int as n from app_user');
        expect(users_.rows[0].n).toBe(12);
        const seats = await sql.query(
          `select used, (select count(*)::int from license_grant) as grants from license where name = 'Cluster seats'`,
        );
        expect(seats.rows[0]).toEqual({ used: 5, grants: 5 });
      } finally {
        await sql.end();
      }

      server.kill('SIGTERM');
      const { code } = await server.exited;
      expect(code).toBe(0);
      expect(server.output()).toMatch(/cluster shutting down/);
    } finally {
      server.kill('SIGKILL');
    }
  }, 240_000);
});
