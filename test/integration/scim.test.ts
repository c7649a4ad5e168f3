import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, dbId, gql, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

// Real PostgreSQL: racing POSTs across two app instances.
let t: TestApp;
let peer: App;
let idp: TestIdp;
let connectionId: string;
let token: string;

const fixture = (name: string) =>
  JSON.parse(readFileSync(`test/fixtures/scim/${name}.json`, 'utf8')) as Record<string, unknown>;
const OID = EntraClaims.objectIdentifier;

async function newToken(connection: string, name = 'entra') {
  const r = await gql<{ createScimToken: { __typename: string; secret: string; baseUrl: string } }>(
    t.app,
    `mutation($c: ID!, $n: String!) { createScimToken(connectionId: $c, name: $n) {
      __typename ... on CreatedScimToken { secret baseUrl } ... on InputError { code message } } }`,
    { c: connection, n: name },
  );
  expect(r.data?.createScimToken.__typename).toBe('CreatedScimToken');
  return r.data!.createScimToken;
}

async function scim(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string | null; app?: App; raw?: string } = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const bearer = opts.token === undefined ? token : opts.token;
  const res = await (opts.app ?? t.app).fetch(
    new Request(`${PUBLIC_URL}/scim/v2${path}`, {
      method,
      headers: {
        'content-type': 'application/scim+json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(opts.raw !== undefined
        ? { body: opts.raw }
        : body !== undefined
          ? { body: JSON.stringify(body) }
          : {}),
    }),
  );
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

beforeAll(async () => {
  t = await createTestApp();
  peer = await t.spawnPeer();
  idp = await TestIdp.create();
  connectionId = await createConnection(t.app, idp, {
    identityKey: 'ATTRIBUTE',
    identityKeyAttribute: OID,
    refreshOnLogin: true,
  });
  // One set of mappings for both roads: each contact field from a SAML claim and from a SCIM path.
  await addMapping(t.app, connectionId, 'name.givenName', 'givenName');
  await addMapping(t.app, connectionId, 'name.familyName', 'surname');
  await addMapping(t.app, connectionId, 'emails[type eq "work"].value', 'email');
  await addMapping(t.app, connectionId, 'department', 'department');
  await createLicense(t.app, 'SCIM seats', 100);
  token = (await newToken(connectionId)).secret;
});
afterAll(() => t.close());

describe('SCIM discovery and tokens', () => {
  it('answers ServiceProviderConfig, ResourceTypes and Schemas as application/scim+json', async () => {
    const spc = await scim('GET', '/ServiceProviderConfig');
    expect(spc.status).toBe(200);
    expect(spc.headers.get('content-type')).toBe('application/scim+json');
    expect(spc.body).toMatchObject({
      patch: { supported: true },
      filter: { supported: true, maxResults: 200 },
      bulk: { supported: false },
    });
    expect((await scim('GET', '/ResourceTypes')).body.totalResults).toBe(2);
    expect(((await scim('GET', '/Schemas')).body.Resources as { id: string }[]).map((s) => s.id)).toContain(
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    );
  });

  it('refuses no token, a wrong token, a revoked one and one of a connection with SCIM off (401, WWW-Authenticate)', async () => {
    for (const bad of [null, 'jpscim_wrong', 'Basic']) {
      const r = await scim('GET', '/Users', undefined, { token: bad });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(r.body).toMatchObject({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: '401',
      });
    }
    const rotated = await newToken(connectionId, 'rotation');
    expect((await scim('GET', '/Users', undefined, { token: rotated.secret })).status).toBe(200);
    expect((await scim('GET', '/Users')).status).toBe(200); // both live during the rotation
    const list = await gql<{ node: { scimTokens: { id: string; name: string }[] } }>(
      t.app,
      `query($id: ID!) { node(id: $id) { ... on IdpConnection { scimTokens { id name } } } }`,
      { id: connectionId },
    );
    const id = list.data!.node.scimTokens.find((x) => x.name === 'rotation')!.id;
    await gql(t.app, `mutation($id: ID!) { revokeScimToken(id: $id) { __typename } }`, { id });
    expect((await scim('GET', '/Users', undefined, { token: rotated.secret })).status).toBe(401);
    expect(JSON.stringify(await t.sql('select * from scim_token'))).not.toContain(rotated.secret);
  });

  it("a token of another connection sees only that connection's users", async () => {
    const other = await TestIdp.create();
    const otherId = await createConnection(t.app, other);
    const otherToken = (await newToken(otherId)).secret;
    const created = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'mine@contoso.example',
      externalId: 'oid-mine',
    });
    expect(created.status).toBe(201);
    expect((await scim('GET', `/Users/${created.body.id}`, undefined, { token: otherToken })).status).toBe(
      404,
    );
    expect(
      (
        await scim('GET', '/Users?filter=userName eq "mine@contoso.example"', undefined, {
          token: otherToken,
        })
      ).body.totalResults,
    ).toBe(0);
  });
});

describe("Entra's provisioning sequence", () => {
  it('create → find by filter → update → rename → disable (sessions end, seats back) → re-enable → delete', async () => {
    const create = fixture('entra-create-user');
    const oid = String(create.externalId);
    const userName = String(create.userName);

    // Entra probes before it creates.
    const probe = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expect(probe.body).toMatchObject({ totalResults: 0, Resources: [] });
    const created = await scim('POST', '/Users', create);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${PUBLIC_URL}/scim/v2/Users/${created.body.id}`);
    expect(created.body).toMatchObject({
      userName,
      externalId: oid,
      active: true,
      meta: { resourceType: 'User' },
    });
    const id = String(created.body.id);
    const [contact] = await t.sql<{ given_name: string; surname: string; email: string; department: string }>(
      'select given_name, surname, email, department from contact where user_id = $1',
      [id],
    );
    expect(contact).toEqual({
      given_name: 'givenName',
      surname: 'familyName',
      email: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com',
      department: 'Human Resources US',
    });
    const [event] = await t.sql<{ via: string; outcome: string }>(
      'select via, outcome from provisioning_event where user_id = $1 order by created_at desc limit 1',
      [id],
    );
    expect(event).toEqual({ via: 'SCIM', outcome: 'CREATED' });
    expect((await scim('POST', '/Users', create)).body).toMatchObject({
      status: '409',
      scimType: 'uniqueness',
    });

    for (const filter of [
      `userName eq "${userName.toUpperCase()}"`,
      `externalId eq "${oid}"`,
      `emails[type eq "work"].value co "fd0ea19b"`,
      'userName sw "Test_User" and active eq true',
    ]) {
      const found = await scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(found.body.totalResults, filter).toBe(1);
      expect((found.body.Resources as { id: string }[])[0]!.id).toBe(id);
    }

    // The person signs in through SAML: the same user (bound by the object id), with a live session.
    const saml = await postAcs(
      t.app,
      idp.response(userName, entraClaims('givenName', 'familyName', 'x@testuser.com', { [OID]: oid })),
    );
    expect(saml.status).toBe(200);
    expect(dbId((saml.body.user as { id: string }).id)).toBe(id);
    const session = saml.body.sessionToken as string;
    const me = () => gql<{ me: { username: string } | null }>(t.app, '{ me { username } }', {}, session);
    expect((await me()).data?.me?.username).toBe(userName);

    const updated = await scim('PATCH', `/Users/${id}`, fixture('entra-update-multi'));
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      name: { familyName: 'updatedFamilyName' },
      emails: [expect.objectContaining({ value: 'updatedEmail@testuser.com' })],
    });
    const [afterUpdate] = await t.sql<{ email: string; surname: string }>(
      'select email, surname from contact where user_id = $1',
      [id],
    );
    expect(afterUpdate).toEqual({
      email: 'updatedEmail@testuser.com',
      surname: 'updatedFamilyName',
    });

    const renamed = await scim('PATCH', `/Users/${id}`, fixture('entra-update-username'));
    expect(renamed.body.userName).toBe('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
    const users = await t.sql<{ id: string; username: string }>(
      `select id, username from app_user where external_key = $1`,
      [oid],
    );
    expect(users).toEqual([{ id, username: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' }]);

    const [seatsBefore] = await t.sql<{ n: string }>(
      'select count(*) as n from license_grant where user_id = $1',
      [id],
    );
    expect(Number(seatsBefore!.n)).toBeGreaterThan(0);
    const disabled = await scim('PATCH', `/Users/${id}`, fixture('entra-disable-user'));
    expect(disabled.status).toBe(200);
    expect(disabled.body.active).toBe(false);
    const m = await me();
    expect(m.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await t.sql('select 1 from license_grant where user_id = $1', [id])).toHaveLength(0);
    const [status] = await t.sql<{ status: string }>('select status from app_user where id = $1', [id]);
    expect(status!.status).toBe('BLOCKED');
    const refused = await postAcs(
      t.app,
      idp.response('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com', { [OID]: oid }),
    );
    expect(refused.body.error).toMatchObject({ code: 'USER_BLOCKED' });

    const enabled = await scim('PATCH', `/Users/${id}`, fixture('entra-enable-user'));
    expect(enabled.body.active).toBe(true);
    expect(await t.sql('select 1 from license_grant where user_id = $1', [id])).not.toHaveLength(0);
    expect(
      (
        await postAcs(
          t.app,
          idp.response('5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com', { [OID]: oid }),
        )
      ).status,
    ).toBe(200);

    expect((await scim('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await scim('GET', `/Users/${id}`)).body).toMatchObject({ status: '404', scimType: 'noTarget' });
    const [deleted] = await t.sql<{ status: string }>('select status from app_user where id = $1', [id]);
    expect(deleted!.status).toBe('BLOCKED');
    const events = await t.sql<{ changes: { column: string }[] }>(
      `select changes from provisioning_event where user_id = $1 and via = 'SCIM' order by created_at`,
      [id],
    );
    expect(events.flatMap((e) => e.changes.map((c) => c.column))).toEqual(
      expect.arrayContaining(['email', 'surname', 'username', 'status']),
    );
  });
});

describe('SCIM operations and refusals', () => {
  // The connection binds people by a stable key: Entra's externalId (its object id) on this road.
  const user = (userName: string, extra: Record<string, unknown> = {}) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName,
    externalId: `oid-${userName}`,
    ...extra,
  });

  it('PUT replaces, pagination pages, and bad requests are refused in the SCIM error schema', async () => {
    for (let i = 0; i < 5; i++)
      expect((await scim('POST', '/Users', user(`page${i}@contoso.example`))).status).toBe(201);
    const page = await scim(
      'GET',
      `/Users?filter=${encodeURIComponent('userName sw "page"')}&startIndex=2&count=2`,
    );
    expect(page.body).toMatchObject({ totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    const first = (
      await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "page0@contoso.example"')}`)
    ).body.Resources as { id: string }[];
    const id = first[0]!.id;
    const put = await scim(
      'PUT',
      `/Users/${id}`,
      user('page0@contoso.example', { displayName: 'Page Zero', title: 'Tester' }),
    );
    expect(put.body).toMatchObject({ displayName: 'Page Zero', title: 'Tester' });

    const cases: [string, string, unknown, number, string | undefined, string?][] = [
      ['GET', `/Users?filter=${encodeURIComponent('userName eq')}`, undefined, 400, 'invalidFilter'],
      ['GET', `/Users?filter=${encodeURIComponent('nickName eq "x"')}`, undefined, 400, 'invalidFilter'],
      ['POST', '/Users', { userName: 'noschema@contoso.example' }, 400, 'invalidSyntax'],
      ['POST', '/Users', user(''), 400, 'invalidValue'],
      // This connection binds people by a stable key, which a SCIM write carries as externalId.
      [
        'POST',
        '/Users',
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'nokey@contoso.example' },
        400,
        'invalidValue',
      ],
      [
        'PUT',
        `/Users/${id}`,
        { ...user('page0@contoso.example'), id: '00000000-0000-0000-0000-000000000000' },
        400,
        'mutability',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'id', value: 'x' }],
        },
        400,
        'mutability',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'explode', path: 'title' }],
        },
        400,
        'invalidSyntax',
      ],
      ['GET', '/Users/00000000-0000-0000-0000-000000000000', undefined, 404, 'noTarget'],
    ];
    for (const [method, path, body, status, scimType] of cases) {
      const r = await scim(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(status);
      expect(r.body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
      if (scimType) expect(r.body.scimType, `${method} ${path}`).toBe(scimType);
      expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/);
    }
    const big = await scim('POST', '/Users', undefined, {
      raw: JSON.stringify(user('big@contoso.example', { title: 'x'.repeat(1_100_000) })),
    });
    expect(big.status).toBe(413);
    expect(await t.sql(`select 1 from app_user where username = 'big@contoso.example'`)).toHaveLength(0);
  });

  it('a PATCH of 1,000 operations applies', async () => {
    const created = await scim('POST', '/Users', user('many@contoso.example'));
    const ops = Array.from({ length: 1000 }, (_, i) => ({
      op: 'Replace',
      path: 'title',
      value: `Title ${i}`,
    }));
    const r = await scim('PATCH', `/Users/${created.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: ops,
    });
    expect(r.status).toBe(200);
    expect(r.body.title).toBe('Title 999');
  });

  it('50 racing POSTs of one userName across two processes create one user; the others get 409 uniqueness', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        scim('POST', '/Users', user('race@contoso.example', { externalId: 'oid-race' }), {
          app: i % 2 ? peer : t.app,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409 && r.body.scimType === 'uniqueness')).toHaveLength(49);
    expect(await t.sql(`select 1 from app_user where username = 'race@contoso.example'`)).toHaveLength(1);
    expect(
      await t.sql(
        `select 1 from scim_user s join app_user u on u.id = s.user_id where u.username = 'race@contoso.example'`,
      ),
    ).toHaveLength(1);
  });

  it('adopts a user JIT made before SCIM knew them (POST after a first sign-in)', async () => {
    const saml = await postAcs(t.app, idp.response('jitfirst@contoso.example', { [OID]: 'oid-jitfirst' }));
    expect(saml.status).toBe(200);
    const post = await scim(
      'POST',
      '/Users',
      user('jitfirst@contoso.example', { externalId: 'oid-jitfirst' }),
    );
    expect(post.status).toBe(201);
    expect(post.body.id).toBe(dbId((saml.body.user as { id: string }).id));
  });
});

describe('SCIM Groups', () => {
  const G = 'urn:ietf:params:scim:schemas:core:2.0:Group';
  const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
  const newUser = async (userName: string) => {
    const r = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName,
      externalId: `oid-${userName}`,
    });
    expect(r.status).toBe(201);
    return String(r.body.id);
  };

  it('members feed the role rules like the SAML groups claim: added in a batch, removed by a value filter', async () => {
    const role = await gql<{ createRole: { id: string } }>(
      t.app,
      `mutation { createRole(input: { name: "scim-editor" }) { ... on Role { id } } }`,
    );
    const rules = await gql<{ setRoleRules: { __typename: string } }>(
      t.app,
      `mutation($c: ID!, $r: [RoleRuleInput!]!) { setRoleRules(connectionId: $c, rules: $r, force: true) { __typename } }`,
      { c: connectionId, r: [{ groupValue: 'grp-oid-editors', roleId: role.data!.createRole.id }] },
    );
    expect(rules.data?.setRoleRules.__typename).toBe('MutationSetRoleRulesSuccess');
    const a = await newUser('member-a@contoso.example');
    const b = await newUser('member-b@contoso.example');

    const created = await scim('POST', '/Groups', {
      schemas: [G],
      displayName: 'Editors',
      externalId: 'grp-oid-editors',
      members: [{ value: a }],
    });
    expect(created.status).toBe(201);
    const gid = String(created.body.id);
    expect(created.body.members).toEqual([
      expect.objectContaining({ value: a, display: 'member-a@contoso.example' }),
    ]);
    expect((await scim('POST', '/Groups', { schemas: [G], displayName: 'editors' })).body).toMatchObject({
      status: '409',
      scimType: 'uniqueness',
    });

    const roles = async (id: string) =>
      (
        await t.sql<{ name: string }>(
          'select r.name from user_role ur join role r on r.id = ur.role_id where ur.user_id = $1',
          [id],
        )
      ).map((r) => r.name);
    expect(await roles(a)).toEqual(['scim-editor']);
    expect(await roles(b)).toEqual([]);

    const add = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: b }] }],
    });
    expect(add.status).toBe(200);
    expect(await roles(b)).toEqual(['scim-editor']);
    const remove = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Remove', path: `members[value eq "${a}"]` }],
    });
    expect(remove.status).toBe(200);
    expect(await roles(a)).toEqual([]);
    expect(await roles(b)).toEqual(['scim-editor']);

    const found = await scim(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Editors"')}&excludedAttributes=members`,
    );
    expect(found.body.totalResults).toBe(1);
    expect((found.body.Resources as Record<string, unknown>[])[0]!.members).toBeUndefined();
    const renamed = await scim('PATCH', `/Groups/${gid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'Replace', value: { displayName: 'Editors (all)' } }],
    });
    expect(renamed.body.displayName).toBe('Editors (all)');
    expect(
      (
        await scim('PATCH', `/Groups/${gid}`, {
          schemas: [PATCH],
          Operations: [{ op: 'add', path: 'members', value: [{ value: 'not-a-user' }] }],
        })
      ).body,
    ).toMatchObject({ scimType: 'invalidValue' });

    expect((await scim('DELETE', `/Groups/${gid}`)).status).toBe(204);
    expect(await roles(b)).toEqual([]);
    expect((await scim('GET', `/Groups/${gid}`)).status).toBe(404);
  });

  it('a 1,000-member PATCH adds them all in one request', async () => {
    const ids: string[] = [];
    const rows = await t.sql<{ id: string }>(
      `insert into app_user (username, connection_id) select 'bulk' || i || '@contoso.example', $1 from generate_series(1, 1000) i returning id`,
      [dbId(connectionId)],
    );
    for (const r of rows) ids.push(r.id);
    await t.sql(
      `insert into scim_user (user_id, connection_id, resource) select id, $1, jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'), 'userName', username, 'externalId', 'oid-' || username) from app_user where username like 'bulk%'`,
      [dbId(connectionId)],
    );
    const g = await scim('POST', '/Groups', { schemas: [G], displayName: 'Bulk' });
    const r = await scim('PATCH', `/Groups/${g.body.id}?excludedAttributes=members`, {
      schemas: [PATCH],
      Operations: [{ op: 'Add', path: 'members', value: ids.map((value) => ({ value })) }],
    });
    expect(r.status).toBe(200);
    const [n] = await t.sql<{ n: string }>(
      'select count(*) as n from scim_group_member where group_id = $1',
      [g.body.id],
    );
    expect(Number(n!.n)).toBe(1000);
  }, 120_000);
});
