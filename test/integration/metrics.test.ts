import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { ADMIN_TOKEN, createTestApp, gql, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * GET /metrics after real sign-ins: the counters move with what happened, the ACS stages are the
 * Server-Timing ones, the pools and the seats are read when scraped, and the route is behind its own
 * token — absent (404) when none is configured.
 */
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
let t: TestApp;
let plain: TestApp;
let idp: TestIdp;

const scrape = async (app: TestApp, token: string | null = METRICS_TOKEN) =>
  app.app.fetch(
    new Request(`${PUBLIC_URL}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }),
  );

/** The sample lines of a metric: `name{labels} value` → [{ labels, value }]. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}
const value = (text: string, name: string, labels: Record<string, string> = {}): number | undefined =>
  samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

let licenseName: string;

beforeAll(async () => {
  [t, plain, idp] = await Promise.all([createTestApp({ METRICS_TOKEN }), createTestApp(), TestIdp.create()]);
  const connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
  await addMapping(t.app, connectionId, EntraClaims.department, 'department', false, {
    kind: 'TRANSFORM',
    plugin: 'lowercase-trim',
    params: {},
  });
  licenseName = 'Metered';
  await createLicense(t.app, licenseName, 2);
  await createLicense(t.app, 'Unlimited', null);
});
afterAll(() => Promise.all([t?.close(), plain?.close()]));

describe('GET /metrics', () => {
  it('is absent (404) when METRICS_TOKEN is not set', async () => {
    const res = await scrape(plain);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/jitprov_/);
    expect((await scrape(plain, null)).status).toBe(404);
  });

  it('refuses a missing or wrong token with 401 UNAUTHENTICATED, the admin token too', async () => {
    for (const token of [null, 'wrong-token-0123456789', ADMIN_TOKEN]) {
      const res = await scrape(t, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAUTHENTICATED');
      expect(body.error.message).toMatch(/metrics/);
    }
  });

  it('refuses a METRICS_TOKEN too short at start', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN/);
  });

  it('counts sign-ins by outcome and refusal code, with the Server-Timing stages', async () => {
    const before = await (await scrape(t)).text();
    const created = (v?: number) => v ?? 0;
    const c0 = created(value(before, 'jitprov_sign_ins_total', { outcome: 'created', via: 'ACS_POST' }));

    for (const user of ['m1@contoso.example', 'm2@contoso.example', 'm3@contoso.example']) {
      const r = await postAcs(
        t.app,
        idp.response(user, { ...entraClaims('M', 'One', user), [EntraClaims.department]: ' Sales ' }),
      );
      expect(r.status).toBe(200);
    }
    const again = await postAcs(
      t.app,
      idp.response('m1@contoso.example', entraClaims('M', 'One', 'm1@contoso.example')),
    );
    expect(again.status).toBe(200);
    const wrongAudience = await postAcs(
      t.app,
      idp.response('m4@contoso.example', {}, { audience: 'https://elsewhere.example' }),
    );
    expect(wrongAudience.status).toBe(400);
    // The GraphQL road is counted under its own via.
    const handed = await gql<{ samlAcs: { __typename: string } }>(
      t.app,
      `mutation SignInByHandoff($r: String!) { samlAcs(input: { samlResponse: $r }) { __typename } }`,
      { r: idp.response('m5@contoso.example', entraClaims('M', 'Five', 'm5@contoso.example')) },
      null,
    );
    expect(handed.errors).toBeUndefined();
    expect(handed.data?.samlAcs.__typename).toBe('SignInResult');

    const res = await scrape(t);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(value(text, 'jitprov_sign_ins_total', { via: 'ACS_POST', outcome: 'created' })).toBe(c0 + 3);
    expect(value(text, 'jitprov_sign_ins_total', { via: 'ACS_POST', outcome: 'signed_in' })).toBe(1);
    expect(
      value(text, 'jitprov_sign_ins_total', {
        via: 'ACS_POST',
        outcome: 'refused',
        code: 'SAML_AUDIENCE_MISMATCH',
      }),
    ).toBe(1);
    expect(samples(text, 'jitprov_sign_ins_total').filter((s) => s.labels.via !== 'ACS_POST').length).toBe(1);
    const viaGraphql = samples(text, 'jitprov_sign_ins_total').find((s) => s.labels.via !== 'ACS_POST');
    expect(viaGraphql?.labels.outcome).toBe('created');

    // The histogram has the Server-Timing stages; each successful ACS sign-in observed each once.
    for (const stage of ['validation', 'transforms', 'db', 'acs']) {
      expect(
        value(text, 'jitprov_acs_duration_seconds_count', { via: 'ACS_POST', stage, outcome: 'ok' }),
      ).toBe(4);
      const sum =
        value(text, 'jitprov_acs_duration_seconds_sum', { via: 'ACS_POST', stage, outcome: 'ok' }) ?? 0;
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(20);
    }
    expect(
      value(text, 'jitprov_acs_duration_seconds_count', {
        via: 'ACS_POST',
        stage: 'acs',
        outcome: 'refused',
      }),
    ).toBe(1);
    expect(
      value(text, 'jitprov_acs_duration_seconds_count', { stage: 'db', outcome: 'refused' }),
    ).toBeUndefined();
    // The stages add up to no more than the whole.
    const part = (stage: string) =>
      value(text, 'jitprov_acs_duration_seconds_sum', { via: 'ACS_POST', stage, outcome: 'ok' }) ?? 0;
    expect(part('validation') + part('transforms') + part('db')).toBeLessThanOrEqual(part('acs') + 1e-6);
  });

  it('reads seats per license and days to expiry per connection certificate when scraped', async () => {
    const text = await (await scrape(t)).text();
    // Four people were created (three by the form, one by the handoff): the 2-seat license is full.
    expect(value(text, 'jitprov_license_seats_used', { license: licenseName })).toBe(2);
    expect(value(text, 'jitprov_license_seats_total', { license: licenseName })).toBe(2);
    expect(value(text, 'jitprov_license_seats_used', { license: 'Unlimited' })).toBe(4);
    expect(value(text, 'jitprov_license_seats_total', { license: 'Unlimited' })).toBeUndefined();
    expect(value(text, 'jitprov_license_active', { license: licenseName })).toBe(1);
    // Read now, not cached: a seat given back shows at the next scrape.
    await t.sql(`update license set used = used - 1 where name = $1`, [licenseName]);
    expect(
      value(await (await scrape(t)).text(), 'jitprov_license_seats_used', { license: licenseName }),
    ).toBe(1);
    await t.sql(`update license set used = used + 1 where name = $1`, [licenseName]);

    const [cert] = samples(text, 'jitprov_connection_certificate_expiry_days');
    expect(cert?.labels.connection).toBe(`IdP ${idp.entityId}`);
    expect(cert?.labels.fingerprint).toMatch(/^[0-9A-F:]+$/i);
    const notAfter = new Date(new (await import('node:crypto')).X509Certificate(idp.key.certPem).validTo);
    const days = (notAfter.getTime() - Date.now()) / 86_400_000;
    expect(cert?.value).toBeCloseTo(days, 0);
    expect(value(text, 'jitprov_scrape_database_up')).toBe(1);
  });

  it('shows the database pool and the worker pool', async () => {
    const text = await (await scrape(t)).text();
    expect(value(text, 'jitprov_db_pool_max')).toBe(10);
    expect(value(text, 'jitprov_db_pool_connections', { state: 'in_use' })).toBeGreaterThanOrEqual(0);
    expect(value(text, 'jitprov_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(1);
    expect(value(text, 'jitprov_db_pool_waiting')).toBe(0);
    expect(value(text, 'jitprov_worker_threads', { state: 'alive' })).toBe(2);
    expect(value(text, 'jitprov_worker_queue_depth')).toBe(0);
    expect(value(text, 'jitprov_worker_restarts_total')).toBeGreaterThanOrEqual(0);
    // Process metrics beside ours.
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('sees the database pool busy and callers waiting while sign-ins outrun it', async () => {
    // Hold every pooled connection in an open transaction, then scrape.
    const holders = Array.from({ length: 10 }, () =>
      t.orm.em.fork().transactional(async (em) => {
        await em.getConnection().execute('select pg_sleep(0.6)', [], 'all', em.getTransactionContext());
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    const waiter = t.orm.em.fork().getConnection().execute('select 1');
    await new Promise((r) => setTimeout(r, 50));
    const text = await (await scrape(t)).text();
    await Promise.all([...holders, waiter]);
    expect(value(text, 'jitprov_db_pool_connections', { state: 'in_use' })).toBe(10);
    expect(value(text, 'jitprov_db_pool_waiting')).toBeGreaterThanOrEqual(1);
  });

  it('counts GraphQL requests and their latency by operation name, with bounded names', async () => {
    await gql(t.app, 'query ListLicenses { licenses(first: 5) { totalCount } }');
    await gql(t.app, 'query ListLicenses { licenses(first: 5) { totalCount } }');
    await gql(t.app, '{ licenses(first: 1) { totalCount } }');
    const text = await (await scrape(t)).text();
    expect(
      value(text, 'jitprov_graphql_requests_total', {
        operation: 'ListLicenses',
        type: 'query',
        status: '200',
      }),
    ).toBe(2);
    expect(value(text, 'jitprov_graphql_request_duration_seconds_count', { operation: 'ListLicenses' })).toBe(
      2,
    );
    expect(
      value(text, 'jitprov_graphql_requests_total', { operation: 'anonymous', type: 'query' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      value(text, 'jitprov_graphql_requests_total', { operation: 'SignInByHandoff', type: 'mutation' }),
    ).toBe(1);
  });
});
