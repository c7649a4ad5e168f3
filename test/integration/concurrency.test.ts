import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, dbId, gql, postAcs, type TestApp } from '../helpers/test-app.js';

// Real PostgreSQL only: the embedded database serialises transactions and would hide these races.
let t: TestApp;
let peer: App;
let idp: TestIdp;

beforeAll(async () => {
  t = await createTestApp();
  peer = await t.spawnPeer();
  idp = await TestIdp.create();
  const connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
});
afterAll(() => t.close());

describe('concurrent sign-ins', () => {
  it('50 concurrent first sign-ins of one NameID, across two app instances, create exactly one user', async () => {
    const nameId = 'race@contoso.example';
    // Distinct assertion ids: 50 genuine logins, not replays.
    const responses = Array.from({ length: 50 }, () =>
      idp.response(nameId, entraClaims('Race', 'Condition', nameId)),
    );
    const results = await Promise.all(responses.map((r, i) => postAcs(i % 2 === 0 ? t.app : peer, r)));

    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const userIds = new Set(results.map((r) => dbId((r.body.user as { id: string }).id)));
    expect(userIds.size).toBe(1);
    expect(results.filter((r) => r.body.created === true)).toHaveLength(1);

    const users = await t.sql<{ id: string }>(`select id from app_user where username = $1`, [nameId]);
    expect(users).toHaveLength(1);
    expect(users[0]!.id).toBe([...userIds][0]);
    const [contacts] = await t.sql<{ n: string }>(
      `select count(*) as n from contact c join app_user u on u.id = c.user_id where u.username = $1`,
      [nameId],
    );
    expect(Number(contacts!.n)).toBe(1);
    const [sessions] = await t.sql<{ n: string }>(
      `select count(*) as n from user_session where user_id = $1`,
      [users[0]!.id],
    );
    expect(Number(sessions!.n)).toBe(50);
  });

  it('a license with 5 seats and 20 concurrent first sign-ins grants exactly 5 seats', async () => {
    const limitedId = await createLicense(t.app, 'Limited', 5);
    expect(limitedId).toBeTruthy();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const nameId = `seat${i}@contoso.example`;
        return postAcs(
          i % 2 === 0 ? t.app : peer,
          idp.response(nameId, entraClaims('Seat', String(i), nameId)),
        );
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(results.every((r) => r.body.created === true)).toBe(true);
    const granted = results.filter((r) => (r.body.licensesGranted as string[]).includes('Limited'));
    expect(granted).toHaveLength(5);
    // The other 15 users still exist and their results say which licenses (none) they got.
    expect(results.filter((r) => (r.body.licensesGranted as string[]).length === 0)).toHaveLength(15);

    const [license] = await t.sql<{ used: number; seats: number }>(
      `select used, seats from license where name = 'Limited'`,
    );
    expect(license).toEqual({ used: 5, seats: 5 });
    const [grants] = await t.sql<{ n: string }>(
      `select count(*) as n from license_grant g join license l on l.id = g.license_id where l.name = 'Limited'`,
    );
    expect(Number(grants!.n)).toBe(5);
    const [users] = await t.sql<{ n: string }>(
      `select count(*) as n from app_user where username like 'seat%'`,
    );
    expect(Number(users!.n)).toBe(20);
    // Every granted result matches a grant row for that user.
    for (const r of granted) {
      const rows = await t.sql(
        `select 1 from license_grant g join license l on l.id = g.license_id where l.name = 'Limited' and g.user_id = $1`,
        [dbId((r.body.user as { id: string }).id)],
      );
      expect(rows).toHaveLength(1);
    }
  });

  it('the same response posted concurrently is accepted exactly once', async () => {
    const response = idp.response(
      'twice@contoso.example',
      entraClaims('Twice', 'Posted', 'twice@contoso.example'),
    );
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => postAcs(i % 2 ? t.app : peer, response)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => (r.body.error as { code?: string })?.code === 'SAML_REPLAY')).toHaveLength(
      9,
    );
  });

  it('concurrent refreshes of one contact: each change is recorded against the value it replaced', async () => {
    const refreshing = await TestIdp.create();
    const id = await createConnection(t.app, refreshing);
    const m = await addMapping(t.app, id, EntraClaims.givenName, 'givenName');
    expect(m.__typename).toBe('AttributeMapping');
    const updated = await gql(
      t.app,
      `mutation($input: UpdateConnectionInput!) { updateConnection(input: $input) { __typename } }`,
      { input: { id, refreshOnLogin: true } },
    );
    expect(updated.errors).toBeUndefined();
    const nameId = 'refresh-race@contoso.example';
    expect((await postAcs(peer, refreshing.response(nameId, entraClaims('A', 'Race', nameId)))).status).toBe(
      200,
    );

    // Ten returning sign-ins at once, each with another given name, each planned against "A".
    const names = Array.from({ length: 10 }, (_, i) => `B${i}`);
    const results = await Promise.all(
      names.map((given, i) =>
        postAcs(i % 2 === 0 ? t.app : peer, refreshing.response(nameId, entraClaims(given, 'Race', nameId))),
      ),
    );
    expect(results.filter((r) => r.status !== 200).map((r) => r.body)).toEqual([]);

    const events = await t.sql<{ changes: { column: string; old: string; new: string }[] }>(
      `select changes from provisioning_event where name_id = $1 and outcome = 'UPDATED'`,
      [nameId],
    );
    const transitions = events.map((e) => e.changes.find((c) => c.column === 'givenName'));
    expect(transitions).toHaveLength(10);
    const [contact] = await t.sql<{ given_name: string }>(
      `select c.given_name from contact c join app_user u on u.id = c.user_id where u.username = $1`,
      [nameId],
    );
    // One chain A → … → final: no two changes replaced the same value, and every value but the
    // final one was replaced exactly once.
    const olds = transitions.map((c) => c?.old);
    const news = transitions.map((c) => c?.new);
    expect(new Set(olds).size).toBe(10);
    expect(new Set(olds)).toEqual(new Set(['A', ...news.filter((n) => n !== contact!.given_name)]));
  });

  it('admin grants racing sign-ins for the last seats never oversubscribe (one seat function for both)', async () => {
    const licenseId = await createLicense(t.app, 'Contested', 6);
    // Three users exist before; six more sign in while the three are granted the license by hand.
    const existing = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const nameId = `granted${i}@contoso.example`;
        const r = await postAcs(t.app, idp.response(nameId, entraClaims('Granted', String(i), nameId)));
        return (r.body.user as { id: string }).id;
      }),
    );
    await t.sql(
      `delete from license_grant g using license l where l.id = g.license_id and l.name = 'Contested'`,
    );
    await t.sql(`update license set used = 0 where name = 'Contested'`);
    const grants = existing.map((userId, i) =>
      gql<{ grantLicense: { __typename: string; code?: string } }>(
        i % 2 ? t.app : peer,
        `mutation($input: LicenseGrantInput!) { grantLicense(input: $input) { __typename ... on InputError { code } } }`,
        { input: { licenseId, userId } },
      ),
    );
    const signIns = Array.from({ length: 6 }, (_, i) => {
      const nameId = `contested${i}@contoso.example`;
      return postAcs(i % 2 ? peer : t.app, idp.response(nameId, entraClaims('Contested', String(i), nameId)));
    });
    const [granted, signedIn] = await Promise.all([Promise.all(grants), Promise.all(signIns)]);
    expect(signedIn.map((r) => r.status)).toEqual(Array(6).fill(200));
    const byAdmin = granted.filter((g) => g.data?.grantLicense.__typename === 'License').length;
    const bySignIn = signedIn.filter((r) =>
      (r.body.licensesGranted as string[]).includes('Contested'),
    ).length;
    expect(byAdmin + bySignIn).toBe(6);
    expect(granted.filter((g) => g.data?.grantLicense.__typename !== 'License').map((g) => g.data)).toEqual(
      Array(3 - byAdmin).fill({ grantLicense: { __typename: 'InputError', code: 'LICENSE_NO_SEAT' } }),
    );
    const [license] = await t.sql(`select used, seats from license where name = 'Contested'`);
    expect(license).toEqual({ used: 6, seats: 6 });
    const [rows] = await t.sql<{ n: number }>(
      `select count(*)::int as n from license_grant g join license l on l.id = g.license_id where l.name = 'Contested'`,
    );
    expect(rows!.n).toBe(6);
  });
});
