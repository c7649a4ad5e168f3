import { inflateRawSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openOrm } from '../../src/orm.js';
import { startCuttingProxy } from '../helpers/cutting-proxy.js';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import {
  ADMIN_TOKEN,
  createTestDatabase,
  gql,
  PUBLIC_URL,
  postAcs,
  sharedWorkers,
} from '../helpers/test-app.js';

/**
 * A sign-in whose database connection is lost is run again on a fresh connection — including the
 * commit-unknown case: the transaction committed, its answer was lost. The retry then meets its own
 * consumed assertion, recognises its own committed attempt by the session it opened, and answers
 * success (not SAML_REPLAY). A real replay whose connection was lost stays a replay.
 */
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: Awaited<ReturnType<typeof startCuttingProxy>>;
let orm: Awaited<ReturnType<typeof openOrm>>;
let app: App;
let idp: TestIdp;
let connectionId: string;
const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> =>
  (await orm.em.fork().getConnection().execute(text, params)) as T[];

beforeAll(async () => {
  [db, idp] = await Promise.all([createTestDatabase(), TestIdp.create()]);
  const direct = new URL(db.url);
  await (await openOrm({ databaseUrl: db.url })).close(); // migrations, on a direct connection
  proxy = await startCuttingProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const config = loadConfig({
    NODE_ENV: 'test',
    PUBLIC_URL,
    ADMIN_TOKEN,
    DATABASE_URL: viaProxy.toString(),
    LOG_LEVEL: 'silent',
  });
  orm = await openOrm({ databaseUrl: viaProxy.toString(), poolSize: 4, migrate: false });
  app = createApp({
    config,
    orm,
    logger: pino({ level: 'silent' }),
    workers: await sharedWorkers(),
    processMetrics: false,
  });
  connectionId = await createConnection(app, idp);
  await addEntraMappings(app, connectionId);
  await createLicense(app, 'Unknown-commit seats', 10);
});
afterAll(async () => {
  await orm?.close();
  await proxy?.close();
  await db?.drop();
});

describe('a lost database connection inside the sign-in', () => {
  it('after the commit: answers success with a working session, provisioned once', async () => {
    const user = 'commit-unknown@contoso.example';
    // The provisioning function's answer (it carries the new sessionId) is lost after its commit.
    proxy.cutAnswerContaining('"sessionId"');
    const r = await postAcs(app, idp.response(user, entraClaims('Com', 'Mit', user)));
    expect(proxy.cuts()).toBe(1);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ created: true, licensesGranted: ['Unknown-commit seats'] });
    const me = await gql<{ me: { username: string } }>(
      app,
      '{ me { username } }',
      {},
      r.body.sessionToken as string,
    );
    expect(me.data?.me.username).toBe(user);
    const [rows] = await sql<Record<string, number>>(
      `select (select count(*)::int from app_user where username = ?) as users,
              (select count(*)::int from user_session s join app_user u on u.id = s.user_id where u.username = ?) as sessions,
              (select count(*)::int from provisioning_event where name_id = ? and outcome = 'CREATED') as created,
              (select count(*)::int from provisioning_event where name_id = ? and outcome = 'REJECTED') as rejected,
              (select used from license where name = 'Unknown-commit seats') as seats`,
      [user, user, user, user],
    );
    expect(rows).toEqual({ users: 1, sessions: 1, created: 1, rejected: 0, seats: 1 });
  });

  it('before the commit: runs the sign-in again on a fresh connection', async () => {
    const user = 'lost-before@contoso.example';
    // The first statement of the sign-in (the configuration's or the function's) loses its connection.
    proxy.cutAnswerContaining('');
    const r = await postAcs(app, idp.response(user, entraClaims('Lo', 'St', user)));
    expect(proxy.cuts()).toBe(2);
    expect(r.status).toBe(200);
    expect(r.body.created).toBe(true);
  });

  it('a real replay whose connection was lost is still refused as a replay', async () => {
    const user = 'replayed@contoso.example';
    const response = idp.response(user, entraClaims('Re', 'Play', user));
    expect((await postAcs(app, response)).status).toBe(200);
    // The replay's refusal is lost with its connection; run again, it is a replay still.
    proxy.cutAnswerContaining('"refusal"');
    const again = await postAcs(app, response);
    expect(proxy.cuts()).toBe(3);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: { code: 'SAML_REPLAY' } });
    const [rows] = await sql<Record<string, number>>(
      `select (select count(*)::int from user_session s join app_user u on u.id = s.user_id where u.username = ?) as sessions`,
      [user],
    );
    expect(rows?.sessions).toBe(1);
  });

  it('an SP-initiated sign-in whose AuthnRequest mark committed unanswered finds its own mark', async () => {
    const requestId = async () => {
      const url = new URL(`${PUBLIC_URL}/saml/login`);
      url.searchParams.set('connection', connectionId);
      const res = await app.fetch(new Request(url, { headers: { accept: 'application/json' } }));
      const location = new URL(res.headers.get('location') ?? '');
      const xml = inflateRawSync(
        Buffer.from(location.searchParams.get('SAMLRequest') ?? '', 'base64'),
      ).toString();
      return /ID="([^"]+)"/.exec(xml)?.[1] ?? '';
    };
    const user = 'sp-lost@contoso.example';
    const id = await requestId();
    // The mark (UPDATE authn_request … set consumed_by) commits; its answer is lost.
    proxy.cutAnswerContaining('UPDATE 1');
    const r = await postAcs(app, idp.response(user, entraClaims('Sp', 'Lost', user), { inResponseTo: id }));
    expect(proxy.cuts()).toBe(4);
    expect(r.status).toBe(200);
    expect(r.body.created).toBe(true);
    const [marked] = await sql<{ consumed_by: string | null }>(
      'select consumed_by from authn_request where id = ?',
      [id],
    );
    expect(marked?.consumed_by).toBeTruthy();

    // Another response to the same request is refused, lost connection or not: the mark is not its own.
    const other = 'sp-other@contoso.example';
    proxy.cutAnswerContaining('UPDATE 0');
    const second = await postAcs(
      app,
      idp.response(other, entraClaims('Sp', 'Other', other), { inResponseTo: id }),
    );
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({ error: { code: 'SAML_IN_RESPONSE_TO_UNKNOWN' } });
    const [rows] = await sql<Record<string, number>>(
      `select (select count(*)::int from app_user where username = ?) as lost,
              (select count(*)::int from app_user where username = ?) as other`,
      [user, other],
    );
    expect(rows).toEqual({ lost: 1, other: 0 });
  });
});
