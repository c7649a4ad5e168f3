import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { ADMIN_TOKEN, createTestApp, gql, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let dev: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  dev = await createTestApp({ NODE_ENV: 'development' });
});
afterAll(async () => {
  await t.close();
  await dev.close();
});

async function raw(token: string | null, query: string) {
  const res = await t.app.fetch(
    new Request(`${PUBLIC_URL}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token === null ? {} : { authorization: token }),
      },
      body: JSON.stringify({ query }),
    }),
  );
  return {
    status: res.status,
    body: (await res.json()) as {
      data?: Record<string, unknown> | null;
      errors?: { message: string; extensions?: { code?: string; reason?: string } }[];
    },
  };
}

/** Audit rows are written beside the answer: wait for the one a refusal makes. */
async function refusalRows(code: string, expected: number) {
  for (let i = 0; i < 50; i++) {
    const rows = await t.sql<{ after: { code: string; message: string } }>(
      `select after from admin_audit_event where action = 'request.refused' and after->>'code' = $1`,
      [code],
    );
    if (rows.length >= expected) return rows;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

describe('credentials that no longer work', () => {
  it('no credential at all is anonymous: me is null, no error', async () => {
    const r = await raw(null, '{ me { id } }');
    expect(r.status).toBe(200);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ me: null });
  });

  it('an unknown token is refused as UNAUTHENTICATED (401), audited without the token', async () => {
    const secret = 'jps_thisTokenWasNeverIssued0000000000000000000';
    for (const header of [`Bearer ${secret}`, 'Bearer not-one-of-ours', 'Basic dXNlcjpwYXNz']) {
      const r = await raw(header, '{ me { id } }');
      expect(r.status).toBe(401);
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'UNKNOWN' });
      expect(JSON.stringify(r.body)).not.toContain(secret);
    }
    const rows = await refusalRows('UNAUTHENTICATED', 3);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(rows)).not.toContain(secret);
  });

  it('an expired session and a signed-out one say so, so a client can tell them from never signed in', async () => {
    const idp = await TestIdp.create();
    await createConnection(t.app, idp);
    const signIn = async (name: string) =>
      (await postAcs(t.app, idp.response(name, entraClaims('Sam', 'Session', name)))).body
        .sessionToken as string;
    const expired = await signIn('expired@contoso.example');
    expect((await raw(`Bearer ${expired}`, '{ me { id } }')).body.data?.me).toBeTruthy();
    await t.sql(
      `update user_session set expires_at = now() - interval '1 second' where user_id = (select id from app_user where username = 'expired@contoso.example')`,
    );
    const r = await raw(`Bearer ${expired}`, '{ me { id } }');
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'EXPIRED' });
    expect(r.body.errors?.[0]?.message).toMatch(/expired/);

    const out = await signIn('signedout@contoso.example');
    expect((await raw(`Bearer ${out}`, 'mutation { signOut }')).body.data).toEqual({ signOut: true });
    const after = await raw(`Bearer ${out}`, '{ me { id } }');
    expect(after.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'REVOKED' });
  });
});

describe('the session cookie', () => {
  it('signs the browser in on our own origin only; a dead cookie is no credential', async () => {
    const idp = await TestIdp.create();
    await createConnection(t.app, idp);
    const name = 'cookie@contoso.example';
    const token = (await postAcs(t.app, idp.response(name, entraClaims('Coo', 'Kie', name)))).body
      .sessionToken as string;
    const me = async (headers: Record<string, string>) => {
      const res = await t.app.fetch(
        new Request(`${PUBLIC_URL}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: JSON.stringify({ query: '{ me { username } }' }),
        }),
      );
      return {
        status: res.status,
        body: (await res.json()) as { data?: { me: { username: string } | null } },
      };
    };
    const cookie = `other=1; jitprov_session=${token}`;
    expect((await me({ cookie })).body.data?.me).toEqual({ username: name });
    expect((await me({ cookie, origin: PUBLIC_URL })).body.data?.me).toEqual({ username: name });
    expect((await me({ cookie, origin: 'https://evil.example' })).body.data?.me).toBeNull();
    await t.sql(
      `update user_session set revoked_at = now() where user_id = (select id from app_user where username = $1)`,
      [name],
    );
    const dead = await me({ cookie });
    expect(dead.status).toBe(200);
    expect(dead.body.data?.me).toBeNull();
  });
});

describe('named admin tokens', () => {
  const CREATE = `mutation($name: String!) { createAdminToken(name: $name) {
    __typename
    ... on CreatedAdminToken { secret adminToken { id name createdBy } }
    ... on InputError { code message path }
  } }`;

  it('made once with its secret, used and audited by name, listed without secrets, revoked at once', async () => {
    const made = await gql<{
      createAdminToken: {
        __typename: string;
        secret: string;
        adminToken: { id: string; name: string; createdBy: string };
      };
    }>(t.app, CREATE, { name: 'ci-bot' });
    expect(made.errors).toBeUndefined();
    const { secret, adminToken } = made.data!.createAdminToken;
    expect(secret).toMatch(/^jpa_[A-Za-z0-9_-]{43}$/);
    expect(adminToken).toMatchObject({ name: 'ci-bot', createdBy: 'admin-token' });
    const stored = await t.sql<{ token_hash: string }>(
      `select token_hash from admin_token where name = 'ci-bot'`,
    );
    expect(stored[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await t.sql('select * from admin_token'))).not.toContain(secret);
    expect(JSON.stringify(await t.sql('select * from admin_audit_event'))).not.toContain(secret);

    const license = await gql<{ createLicense: { __typename: string } }>(
      t.app,
      `mutation { createLicense(input: { name: "By bot", seats: 3 }) { __typename } }`,
      {},
      secret,
    );
    expect(license.data?.createLicense.__typename).toBe('License');
    const [audit] = await t.sql<{ actor: string }>(
      `select actor from admin_audit_event where action = 'license.create' order by created_at desc limit 1`,
    );
    expect(audit!.actor).toBe('token:ci-bot');

    const list = await gql<{
      adminTokens: { name: string; lastUsedAt: string | null; revokedAt: string | null }[];
    }>(t.app, '{ adminTokens { name lastUsedAt revokedAt } }');
    expect(list.data?.adminTokens).toEqual([expect.objectContaining({ name: 'ci-bot', revokedAt: null })]);
    expect(list.data!.adminTokens[0]!.lastUsedAt).not.toBeNull();

    const revoked = await gql<{ revokeAdminToken: { __typename: string } }>(
      t.app,
      `mutation($id: ID!) { revokeAdminToken(id: $id) { __typename } }`,
      { id: adminToken.id },
    );
    expect(revoked.data?.revokeAdminToken.__typename).toBe('AdminToken');
    const refused = await raw(`Bearer ${secret}`, '{ licenses(first: 1) { totalCount } }');
    expect(refused.status).toBe(401);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      reason: 'REVOKED',
    });
  });

  it('refuses a duplicate or a bad name, and a non-admin', async () => {
    expect(
      (await gql<{ createAdminToken: { __typename: string } }>(t.app, CREATE, { name: 'twice' })).data
        ?.createAdminToken.__typename,
    ).toBe('CreatedAdminToken');
    expect((await gql(t.app, CREATE, { name: 'twice' })).data).toEqual({
      createAdminToken: expect.objectContaining({
        __typename: 'InputError',
        code: 'CONFLICT',
        path: ['name'],
      }),
    });
    expect((await gql(t.app, CREATE, { name: '<script>' })).data).toEqual({
      createAdminToken: expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    });
    const anonymous = await gql(t.app, CREATE, { name: 'sneaky' }, null);
    expect(anonymous.data?.createAdminToken ?? null).toBeNull();
    expect(await t.sql(`select 1 from admin_token where name = 'sneaky'`)).toHaveLength(0);
  });
});

describe('GraphQL limit refusals are audited', () => {
  it('a document nested too deep is refused with its code and leaves an audit row', async () => {
    let q = 'id';
    for (let i = 0; i < 20; i++) q = `node(id: "x") { ${q} }`;
    const r = await raw(`Bearer ${ADMIN_TOKEN}`, `{ ${q} }`);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    expect((await refusalRows('QUERY_TOO_DEEP', 1)).length).toBeGreaterThanOrEqual(1);
  });
});

describe('pages a browser meets', () => {
  it('GET / is a landing page linking the console, the API and the SP metadata', async () => {
    const res = await t.app.fetch(new Request(`${PUBLIC_URL}/`));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    for (const href of ['/admin', '/graphql', '/saml/metadata']) expect(html).toContain(`href="${href}"`);
    expect(html).not.toMatch(/<script/i);
  });

  it('GraphiQL (development) is served whole from the package: no script or style from another host', async () => {
    const res = await dev.app.fetch(
      new Request(`${PUBLIC_URL}/graphql`, { headers: { accept: 'text/html' } }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/graphiql/i);
    const remote = [...html.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']([^"']+)["']/gi)]
      .map((m) => m[1] as string)
      .filter((u) => /^(?:https?:)?\/\//i.test(u));
    expect(remote).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr|fonts\.googleapis/);
  });
});
