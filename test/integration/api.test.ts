import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { ADMIN_TOKEN, createTestApp, gql, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let idp: TestIdp;
let statements = 0;
const gid = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

async function signIn(nameId: string, extra: Record<string, string | string[]> = {}) {
  const res = await postAcs(
    t.app,
    idp.response(nameId, entraClaims('Given', nameId.split('@')[0]!, nameId, extra)),
  );
  return res;
}

beforeAll(async () => {
  t = await createTestApp({}, (line) => {
    if (line.includes('[query]')) statements++;
  });
  idp = await TestIdp.create();
  const connectionId = await createConnection(t.app, idp, { adminGroups: ['jitprov-admins'] });
  await addEntraMappings(t.app, connectionId);
  await createLicense(t.app, 'CRM', null);
  await createLicense(t.app, 'Analytics', null);
  // 120 contacts with predictable names, created through real sign-ins for a few and SQL for bulk.
  for (const n of ['alice', 'bob', 'carol']) expect((await signIn(`${n}@contoso.example`)).status).toBe(200);
  await t.sql(`
    with u as (
      insert into app_user (username, connection_id)
      select 'bulk' || lpad(i::text, 3, '0') || '@contoso.example', (select id from idp_connection limit 1)
      from generate_series(1, 117) i returning id, username)
    insert into contact (user_id, full_name, email, department)
    select id, 'Person ' || substr(username, 5, 3), username, case when username like 'bulk00%' then 'Sales' else 'Ops' end
    from u`);
  await t.sql(`insert into license_grant (license_id, user_id)
    select l.id, u.id from license l, app_user u where u.username like 'bulk%'`);
});
afterAll(() => t.close());

const CONTACTS = `query($first: Int, $after: String, $last: Int, $before: String, $filter: ContactFilter) {
  contacts(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { fullName email department user { username licenses { name } } } }
  }
}`;
type ContactsPage = {
  contacts: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string; startCursor: string };
    edges: {
      node: { fullName: string; email: string; user: { username: string; licenses: { name: string }[] } };
    }[];
  };
};

describe('contacts: Relay connection with keyset pagination', () => {
  it('pages through all contacts in name order without gaps or repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const r: { data?: ContactsPage; errors?: unknown } = await gql<ContactsPage>(t.app, CONTACTS, {
        first: 50,
        after,
      });
      expect(r.errors).toBeUndefined();
      const c = r.data!.contacts;
      expect(c.totalCount).toBe(120);
      seen.push(...c.edges.map((e) => e.node.email));
      pages++;
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    const names = (
      await t.sql<{ email: string }>(`select email from contact order by lower(coalesce(full_name, '')), id`)
    ).map((r) => r.email);
    expect(seen).toEqual(names);
  });

  it('pages backwards with last/before', async () => {
    const first = await gql<ContactsPage>(t.app, CONTACTS, { first: 10 });
    const second = await gql<ContactsPage>(t.app, CONTACTS, {
      first: 10,
      after: first.data!.contacts.pageInfo.endCursor,
    });
    const back = await gql<ContactsPage>(t.app, CONTACTS, {
      last: 10,
      before: second.data!.contacts.pageInfo.startCursor,
    });
    expect(back.data!.contacts.edges.map((e) => e.node.email)).toEqual(
      first.data!.contacts.edges.map((e) => e.node.email),
    );
    expect(back.data!.contacts.pageInfo.hasPreviousPage).toBe(false);
  });

  it('filters by text and department', async () => {
    const search = await gql<ContactsPage>(t.app, CONTACTS, { first: 50, filter: { search: 'CAROL' } });
    expect(search.data!.contacts.edges.map((e) => e.node.email)).toEqual(['carol@contoso.example']);
    const sales = await gql<ContactsPage>(t.app, CONTACTS, { first: 50, filter: { department: 'Sales' } });
    expect(sales.data!.contacts.totalCount).toBe(9);
    const literal = await gql<ContactsPage>(t.app, CONTACTS, { first: 50, filter: { search: '%' } });
    expect(literal.data!.contacts.totalCount).toBe(0);
  });

  it('loads 100 contacts with their users and licenses in a bounded number of statements', async () => {
    statements = 0;
    const r = await gql<ContactsPage>(t.app, CONTACTS, { first: 100 });
    expect(r.data!.contacts.edges).toHaveLength(100);
    expect(
      r.data!.contacts.edges.find((e) => e.node.email.startsWith('bulk'))?.node.user.licenses,
    ).toHaveLength(2);
    // page, count, users, grants+licenses (one or two) — never one per contact.
    expect(statements).toBeGreaterThanOrEqual(3);
    expect(statements).toBeLessThanOrEqual(6);
  });

  it('refuses a forged cursor with a typed error', async () => {
    const r = await gql(t.app, CONTACTS, { first: 5, after: 'bm90LWEtY3Vyc29y' });
    expect(r.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});

describe('sessions and scopes', () => {
  it('a session reads me and contacts, but not users or admin mutations', async () => {
    const res = await signIn('dave@contoso.example');
    const token = res.body.sessionToken as string;
    const r = await gql<{ me: { username: string }; contacts: { totalCount: number }; users: unknown }>(
      t.app,
      '{ me { username } contacts(first: 1) { totalCount } users(first: 1) { totalCount } }',
      {},
      token,
    );
    expect(r.data?.me.username).toBe('dave@contoso.example');
    expect(r.data?.contacts.totalCount).toBeGreaterThan(0);
    expect(r.data?.users).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const m = await gql<{ createLicense: unknown }>(
      t.app,
      'mutation { createLicense(input: { name: "X" }) { __typename } }',
      {},
      token,
    );
    expect(m.data?.createLicense).toBeNull();
    expect(await t.sql(`select 1 from license where name = 'X'`)).toHaveLength(0);
  });

  it('anonymous callers may only hand over a SAML response', async () => {
    const r = await gql<{ contacts: unknown; me: unknown }>(
      t.app,
      '{ me { username } contacts(first: 1) { totalCount } }',
      {},
      null,
    );
    expect(r.data?.me).toBeNull();
    expect(r.data?.contacts).toBeNull();
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('signOut revokes the session at once', async () => {
    const token = (await signIn('erin@contoso.example')).body.sessionToken as string;
    const out = await gql<{ signOut: boolean }>(t.app, 'mutation { signOut }', {}, token);
    expect(out.data?.signOut).toBe(true);
    // The token is known and revoked: refused as such, not served as anonymous.
    const me = await gql<{ me: unknown }>(t.app, '{ me { username } }', {}, token);
    expect(me.data ?? null).toBeNull();
    expect(me.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REVOKED' });
  });

  it('a member of the connection admin group holds the admin role, and loses it when removed', async () => {
    const admin = await signIn('frank@contoso.example', {
      [EntraClaims.groups]: ['staff', 'jitprov-admins'],
    });
    const token = admin.body.sessionToken as string;
    const ok = await gql<{ users: { totalCount: number } }>(
      t.app,
      '{ users(first: 1) { totalCount } }',
      {},
      token,
    );
    expect(ok.data?.users.totalCount).toBeGreaterThan(100);
    const again = await signIn('frank@contoso.example', { [EntraClaims.groups]: ['staff'] });
    const after = await gql<{ users: unknown }>(
      t.app,
      '{ users(first: 1) { totalCount } }',
      {},
      again.body.sessionToken as string,
    );
    expect(after.data?.users).toBeNull();
  });

  it('blocking a user ends their sessions and refuses their sign-in; unblocking restores it', async () => {
    const res = await signIn('gina@contoso.example');
    const token = res.body.sessionToken as string;
    const id = (res.body.user as { id: string }).id;
    const blocked = await gql<{ blockUser: { status: string } }>(
      t.app,
      'mutation($id: ID!) { blockUser(id: $id) { ... on User { status } ... on InputError { code } } }',
      { id },
    );
    expect(blocked.data?.blockUser.status).toBe('BLOCKED');
    const me = await gql<{ me: unknown }>(t.app, '{ me { username } }', {}, token);
    expect(me.data ?? null).toBeNull();
    expect(me.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REVOKED' });
    const refused = await signIn('gina@contoso.example');
    expect(refused.body).toMatchObject({ error: { code: 'USER_BLOCKED' } });
    await gql(t.app, 'mutation($id: ID!) { unblockUser(id: $id) { __typename } }', { id });
    expect((await signIn('gina@contoso.example')).status).toBe(200);
  });
});

describe('license administration', () => {
  const UPDATE = `mutation($input: UpdateLicenseInput!) { updateLicense(input: $input) {
    __typename ... on License { seats used active } ... on InputError { code path } } }`;
  const GRANT = (op: string) => `mutation($input: LicenseGrantInput!) { ${op}(input: $input) {
    __typename ... on License { used } ... on InputError { code path } } }`;

  it('never sets seats below the seats in use, grants and revokes seats, deactivates', async () => {
    const [lic] = await t.sql<{ id: string; used: number }>(
      `select id, used from license where name = 'CRM'`,
    );
    const licenseId = gid('License', lic!.id);
    const below = await gql<{ updateLicense: unknown }>(t.app, UPDATE, {
      input: { id: licenseId, seats: lic!.used - 1 },
    });
    expect(below.data?.updateLicense).toEqual({
      __typename: 'InputError',
      code: 'LICENSE_SEATS_IN_USE',
      path: ['input', 'seats'],
    });
    const exact = await gql<{ updateLicense: unknown }>(t.app, UPDATE, {
      input: { id: licenseId, seats: lic!.used },
    });
    expect(exact.data?.updateLicense).toMatchObject({ seats: lic!.used, used: lic!.used });

    const [u] = await t.sql<{ id: string }>(
      `select id from app_user where username = 'bulk001@contoso.example'`,
    );
    const input = { licenseId, userId: gid('User', u!.id) };
    const revoked = await gql<{ revokeLicense: { used: number } }>(t.app, GRANT('revokeLicense'), { input });
    expect(revoked.data?.revokeLicense.used).toBe(lic!.used - 1);
    const granted = await gql<{ grantLicense: { used: number } }>(t.app, GRANT('grantLicense'), { input });
    expect(granted.data?.grantLicense.used).toBe(lic!.used);
    const twice = await gql<{ grantLicense: unknown }>(t.app, GRANT('grantLicense'), { input });
    expect(twice.data?.grantLicense).toMatchObject({ code: 'CONFLICT' });
    const [other] = await t.sql<{ id: string }>(
      `select id from app_user where username = 'alice@contoso.example'`,
    );
    const full = await gql<{ grantLicense: unknown }>(t.app, GRANT('grantLicense'), {
      input: { licenseId, userId: gid('User', other!.id) },
    });
    expect(full.data?.grantLicense).toMatchObject({ code: 'CONFLICT' });

    await gql(t.app, UPDATE, { input: { id: licenseId, unlimited: true, active: false } });
    const res = await signIn('henk@contoso.example');
    expect(res.body.licensesGranted).toEqual(['Analytics']);
  });

  it('records every admin change with actor, action, target and before/after; a refusal records nothing', async () => {
    const before = await t.sql(`select count(*)::int n from admin_audit_event`);
    const r = await gql<{ adminAuditEvents: { edges: { node: Record<string, unknown> }[] } }>(
      t.app,
      `{ adminAuditEvents(first: 50, action: "license.update") { edges { node { actor action targetType before after } } } }`,
    );
    const nodes = r.data!.adminAuditEvents.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    expect(nodes[0]).toMatchObject({ actor: 'admin-token', action: 'license.update', targetType: 'License' });
    expect(
      nodes.some(
        (n) =>
          (n.before as { active?: boolean })?.active === true &&
          (n.after as { active?: boolean })?.active === false,
      ),
    ).toBe(true);
    await gql(t.app, 'mutation { createLicense(input: { name: "" }) { __typename } }');
    expect(await t.sql(`select count(*)::int n from admin_audit_event`)).toEqual(
      before.map(() => ({ n: (before[0] as { n: number }).n })),
    );
  });

  it('lists provisioning events for admins, filtered by outcome', async () => {
    const r = await gql<{
      provisioningEvents: { totalCount: number; edges: { node: { outcome: string; errorCode: string } }[] };
    }>(
      t.app,
      `{ provisioningEvents(first: 5, filter: { outcome: REJECTED }) { totalCount edges { node { outcome errorCode nameId } } } }`,
    );
    expect(r.data!.provisioningEvents.totalCount).toBeGreaterThan(0);
    expect(
      r.data!.provisioningEvents.edges.every((e) => e.node.outcome === 'REJECTED' && e.node.errorCode),
    ).toBe(true);
  });
});

describe('hardening', () => {
  const raw = (init: RequestInit & { path?: string }) =>
    t.app.fetch(new Request(`${PUBLIC_URL}${init.path ?? '/graphql'}`, { method: 'POST', ...init }));

  it('refuses a form-encoded (CSRF-able) GraphQL request without the CSRF header', async () => {
    const res = await raw({
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: 'query=%7B%20me%20%7B%20username%20%7D%20%7D',
    });
    expect(res.status).toBe(403);
    const get = await t.app.fetch(new Request(`${PUBLIC_URL}/graphql?query=%7Bme%7Busername%7D%7D`));
    expect(get.status).toBe(403);
  });

  it.each([
    [
      'depth',
      `{ contacts(first: 1) { edges { node { user { contact { user { contact { user { contact { user { contact { user { username } } } } } } } } } } } } }`,
      'QUERY_TOO_DEEP',
    ],
    [
      'aliases',
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: contactFields { name }`).join(' ')} }`,
      'QUERY_TOO_MANY_ALIASES',
    ],
    [
      'tokens',
      `{ contactFields { ${Array.from({ length: 2100 }, () => 'name').join(' ')} } }`,
      'QUERY_TOO_MANY_TOKENS',
    ],
    [
      'cost',
      `{ contacts(first: 1) { edges { node { ${Array.from({ length: 14 }, (_, i) => `u${i}: user { contact { user { contact { user { licenses { name seats used active available createdAt } } } } } }`).join(' ')} } } } }`,
      'QUERY_TOO_COSTLY',
    ],
  ])('refuses a document over the %s limit with a stable code', async (_label, query, code) => {
    const r = await gql(t.app, query);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions?.code).toBe(code);
    expect(r.errors?.[0]?.message).not.toMatch(/Syntax Error/);
  });

  it('refuses a body over the size limit with 413', async () => {
    const res = await raw({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ contactFields { name } }`, pad: 'x'.repeat(2 * 1024 * 1024) }),
    });
    expect(res.status).toBe(413);
  });

  it('sends the request id back and logs it with a masked error', async () => {
    const res = await raw({
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-12345678' },
      body: '{"query":"{ contactFields { name } }"}',
    });
    expect(res.headers.get('x-request-id')).toBe('trace-12345678');
  });
});

describe('production mode', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await createTestApp({ NODE_ENV: 'production' });
  });
  afterAll(() => prod.close());

  it('disables introspection and field suggestions', async () => {
    const intro = await gql(prod.app, '{ __schema { types { name } } }');
    expect(intro.data).toBeUndefined();
    const typo = await gql(prod.app, '{ contactField { name } }');
    expect(JSON.stringify(typo.errors)).not.toMatch(/Did you mean/);
  });

  it('keeps them in development', async () => {
    const intro = await gql<{ __schema: { types: unknown[] } }>(t.app, '{ __schema { types { name } } }');
    expect(intro.data?.__schema.types.length).toBeGreaterThan(10);
    const typo = await gql(t.app, '{ contactField { name } }');
    expect(JSON.stringify(typo.errors)).toMatch(/Did you mean/);
  });
});
