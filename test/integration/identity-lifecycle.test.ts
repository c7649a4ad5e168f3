import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { SERVER_ENTRY } from '../helpers/server-process.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, dbId, gql, postAcs, type TestApp } from '../helpers/test-app.js';

// Real PostgreSQL: renames, links and seats race here, and the embedded database would serialise them.
let t: TestApp;
let peer: App;
beforeAll(async () => {
  t = await createTestApp();
  peer = await t.spawnPeer();
});
afterAll(() => t.close());

const OID = EntraClaims.objectIdentifier;

async function connection(options: Record<string, unknown> = {}): Promise<{ idp: TestIdp; id: string }> {
  const idp = await TestIdp.create();
  const id = await createConnection(t.app, idp, options);
  await addEntraMappings(t.app, id);
  return { idp, id };
}

const person = (given: string, email: string, extra: Record<string, string | string[]> = {}) =>
  entraClaims(given, 'Tester', email, extra);

async function userOf(username: string) {
  return (
    await t.sql<{
      id: string;
      username: string;
      external_key: string | null;
      status: string;
      is_admin: boolean;
    }>('select id, username, external_key, status, is_admin from app_user where username = $1', [username])
  )[0];
}

async function lastEvent(nameId: string) {
  return (
    await t.sql<{
      outcome: string;
      error_code: string | null;
      changes: { column: string; old: unknown; new: unknown }[];
      license_decisions: { license: string; decision: string; ruleId: string | null }[];
      roles: string[] | null;
      group_overage: boolean;
    }>(
      `select outcome, error_code, changes, license_decisions, roles, group_overage from provisioning_event
        where name_id = $1 order by created_at desc limit 1`,
      [nameId],
    )
  )[0];
}

async function setRules(connectionId: string, rules: Record<string, unknown>[], force = false) {
  const r = await gql<{ setLicenseRules: Record<string, unknown> }>(
    t.app,
    `mutation($c: ID!, $rules: [LicenseRuleInput!]!, $force: Boolean) {
      setLicenseRules(connectionId: $c, rules: $rules, force: $force) {
        __typename
        ... on MutationSetLicenseRulesSuccess { data { id kind position license { name } } }
        ... on InputError { code message path }
      }
    }`,
    { c: connectionId, rules, force },
  );
  expect(r.errors).toBeUndefined();
  return r.data!.setLicenseRules;
}

describe('stable identity binding', () => {
  it('a known key with a new NameID and email renames the user: one user, one seat, the rename in the event', async () => {
    const { idp } = await connection({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: OID,
      refreshOnLogin: true,
    });
    const seats = await createLicense(t.app, 'Rename seats', 10);
    const first = await postAcs(
      t.app,
      idp.response(
        'maria.old@contoso.example',
        person('Maria', 'maria.old@contoso.example', { [OID]: 'oid-maria' }),
      ),
    );
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(true);

    const renamed = await postAcs(
      t.app,
      idp.response(
        'maria.new@fabrikam.example',
        person('Maria', 'maria.new@fabrikam.example', { [OID]: 'oid-maria' }),
      ),
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.created).toBe(false);
    expect(dbId((renamed.body.user as { id: string }).id)).toBe(dbId((first.body.user as { id: string }).id));

    expect(await userOf('maria.old@contoso.example')).toBeUndefined();
    const user = await userOf('maria.new@fabrikam.example');
    expect(user).toMatchObject({ external_key: 'oid-maria' });
    const [contact] = await t.sql<{ email: string }>('select email from contact where user_id = $1', [
      user!.id,
    ]);
    expect(contact!.email).toBe('maria.new@fabrikam.example');
    const [license] = await t.sql<{ used: number }>('select used from license where id = $1', [dbId(seats)]);
    expect(license!.used).toBe(1);
    const event = await lastEvent('maria.new@fabrikam.example');
    expect(event!.outcome).toBe('UPDATED');
    expect(event!.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          column: 'username',
          old: 'maria.old@contoso.example',
          new: 'maria.new@fabrikam.example',
        }),
        expect.objectContaining({
          column: 'email',
          old: 'maria.old@contoso.example',
          new: 'maria.new@fabrikam.example',
        }),
      ]),
    );
  });

  it('a rename racing sign-ins of the old name, across two processes, keeps one user and one seat', async () => {
    const { idp } = await connection({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: OID,
      refreshOnLogin: true,
    });
    const seats = await createLicense(t.app, 'Race seats', 100);
    const old = 'rick.old@contoso.example';
    const next = 'rick.new@contoso.example';
    expect((await postAcs(t.app, idp.response(old, person('Rick', old, { [OID]: 'oid-rick' })))).status).toBe(
      200,
    );
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const name = i % 2 === 0 ? next : old;
        return postAcs(
          i % 3 === 0 ? peer : t.app,
          idp.response(name, person('Rick', name, { [OID]: 'oid-rick' })),
        );
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(24).fill(200));
    const users = await t.sql<{ id: string; username: string }>(
      `select id, username from app_user where external_key = 'oid-rick'`,
    );
    expect(users).toHaveLength(1);
    expect([old, next]).toContain(users[0]!.username);
    const [grants] = await t.sql<{ n: string }>(
      'select count(*) as n from license_grant where user_id = $1 and license_id = $2',
      [users[0]!.id, dbId(seats)],
    );
    expect(Number(grants!.n)).toBe(1);
    const [license] = await t.sql<{ used: number }>('select used from license where id = $1', [dbId(seats)]);
    expect(license!.used).toBe(1);
    expect(await t.sql('select 1 from contact where user_id = $1', [users[0]!.id])).toHaveLength(1);
  });

  it('a connection switched from NameID to an attribute key adopts its own users at their next sign-in', async () => {
    const { idp, id } = await connection();
    const name = 'adopt@contoso.example';
    const first = await postAcs(t.app, idp.response(name, person('Ada', name, { [OID]: 'oid-adopt' })));
    expect((await userOf(name))!.external_key).toBeNull();
    const updated = await gql<{ updateConnection: { __typename: string; identityKey?: string } }>(
      t.app,
      `mutation($input: UpdateConnectionInput!) { updateConnection(input: $input) { __typename ... on IdpConnection { identityKey } } }`,
      { input: { id, identityKey: 'ATTRIBUTE', identityKeyAttribute: OID, linkPolicy: 'NEVER' } },
    );
    expect(updated.data?.updateConnection).toEqual({ __typename: 'IdpConnection', identityKey: 'ATTRIBUTE' });
    const again = await postAcs(t.app, idp.response(name, person('Ada', name, { [OID]: 'oid-adopt' })));
    expect(again.status).toBe(200);
    expect(dbId((again.body.user as { id: string }).id)).toBe(dbId((first.body.user as { id: string }).id));
    expect((await userOf(name))!.external_key).toBe('oid-adopt');
  });

  it("a rename onto another user's username is refused (USERNAME_TAKEN) and changes nothing", async () => {
    const { idp } = await connection({ identityKey: 'ATTRIBUTE', identityKeyAttribute: OID });
    const a = 'taken-a@contoso.example';
    const b = 'taken-b@contoso.example';
    expect((await postAcs(t.app, idp.response(a, person('A', a, { [OID]: 'oid-taken-a' })))).status).toBe(
      200,
    );
    expect((await postAcs(t.app, idp.response(b, person('B', b, { [OID]: 'oid-taken-b' })))).status).toBe(
      200,
    );
    const before = await userOf(b);
    const r = await postAcs(t.app, idp.response(a, person('B', a, { [OID]: 'oid-taken-b' })));
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'USERNAME_TAKEN' });
    expect(await userOf(b)).toEqual(before);
    expect((await userOf(a))!.external_key).toBe('oid-taken-a');
  });

  it("two connections never capture each other's users, even with the same key value and username", async () => {
    const a = await connection({ identityKey: 'ATTRIBUTE', identityKeyAttribute: OID });
    const b = await connection({ identityKey: 'ATTRIBUTE', identityKeyAttribute: OID });
    const name = 'shared@contoso.example';
    expect(
      (await postAcs(t.app, a.idp.response(name, person('Shared', name, { [OID]: 'oid-shared' })))).status,
    ).toBe(200);
    const before = await userOf(name);
    const other = await postAcs(t.app, b.idp.response(name, person('Shared', name, { [OID]: 'oid-shared' })));
    expect(other.status).toBe(403);
    expect((other.body.error as { code: string }).code).toBe('LINK_REFUSED');
    expect(await userOf(name)).toEqual(before);
    expect((await lastEvent(name))!.error_code).toBe('LINK_REFUSED');
  });

  it('refuses a sign-in without the key attribute (IDENTITY_KEY_MISSING), writing nothing but the audit row', async () => {
    const { idp } = await connection({ identityKey: 'ATTRIBUTE', identityKeyAttribute: OID });
    const name = 'nokey@contoso.example';
    const r = await postAcs(t.app, idp.response(name, person('No', name)));
    expect(r.status).toBe(400);
    expect((r.body.error as { code: string }).code).toBe('IDENTITY_KEY_MISSING');
    expect(await userOf(name)).toBeUndefined();
    expect((await lastEvent(name))!.error_code).toBe('IDENTITY_KEY_MISSING');
  });

  it('an ATTRIBUTE binding without its attribute is refused when written', async () => {
    const idp = await TestIdp.create();
    const r = await gql<{ createConnection: { __typename: string; code?: string; path?: string[] } }>(
      t.app,
      `mutation($input: CreateConnectionInput!) {
        createConnection(input: $input) { __typename ... on InputError { code path } }
      }`,
      { input: { name: 'no attribute', metadataXml: idp.metadata(), identityKey: 'ATTRIBUTE' } },
    );
    expect(r.data?.createConnection).toMatchObject({
      __typename: 'InputError',
      code: 'VALIDATION_FAILED',
      path: ['input', 'identityKeyAttribute'],
    });
  });
});

describe('linking a first sign-in to an existing user', () => {
  async function preCreate(username: string, email: string) {
    const r = await gql<{ createUser: { __typename: string; id?: string; code?: string } }>(
      t.app,
      `mutation($input: CreateUserInput!) { createUser(input: $input) { __typename ... on User { id } ... on InputError { code message } } }`,
      { input: { username, email, fullName: 'Pre Created' } },
    );
    expect(r.data?.createUser.__typename).toBe('User');
    return dbId(r.data!.createUser.id!);
  }

  it('USERNAME: the pre-created user with the same username is linked and bound to the key', async () => {
    const { idp } = await connection({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: OID,
      linkPolicy: 'USERNAME',
    });
    const id = await preCreate('linda@contoso.example', 'linda@contoso.example');
    const r = await postAcs(
      t.app,
      idp.response('linda@contoso.example', person('Linda', 'linda@contoso.example', { [OID]: 'oid-linda' })),
    );
    expect(r.status).toBe(200);
    expect(r.body.created).toBe(false);
    expect(dbId((r.body.user as { id: string }).id)).toBe(id);
    expect(await userOf('linda@contoso.example')).toMatchObject({ id, external_key: 'oid-linda' });
  });

  it('EMAIL: the one unbound user whose contact has the email is linked and renamed', async () => {
    const { idp } = await connection({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: OID,
      linkPolicy: 'EMAIL',
    });
    const id = await preCreate('EMP-0042', 'erik@contoso.example');
    const r = await postAcs(
      t.app,
      idp.response('erik.upn@contoso.example', person('Erik', 'erik@contoso.example', { [OID]: 'oid-erik' })),
    );
    expect(r.status).toBe(200);
    expect(dbId((r.body.user as { id: string }).id)).toBe(id);
    expect(await userOf('erik.upn@contoso.example')).toMatchObject({ id, external_key: 'oid-erik' });
  });

  it('NEVER: a sign-in meeting an existing user is refused (LINK_REFUSED) and changes nothing', async () => {
    const { idp } = await connection({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: OID,
      linkPolicy: 'NEVER',
    });
    const id = await preCreate('nina@contoso.example', 'nina@contoso.example');
    const r = await postAcs(
      t.app,
      idp.response('nina@contoso.example', person('Nina', 'nina@contoso.example', { [OID]: 'oid-nina' })),
    );
    expect(r.status).toBe(403);
    expect((r.body.error as { code: string; message: string }).code).toBe('LINK_REFUSED');
    expect(await userOf('nina@contoso.example')).toMatchObject({ id, external_key: null });
    expect(await t.sql('select 1 from user_session where user_id = $1', [id])).toHaveLength(0);
  });

  it('NEVER under NameID binding refuses a pre-created user too', async () => {
    const { idp } = await connection({ linkPolicy: 'NEVER' });
    await preCreate('norm@contoso.example', 'norm@contoso.example');
    const r = await postAcs(
      t.app,
      idp.response('norm@contoso.example', person('Norm', 'norm@contoso.example')),
    );
    expect((r.body.error as { code: string }).code).toBe('LINK_REFUSED');
  });
});

describe('license rules', () => {
  it('grant to everyone, to a group, by expression; revoke when the rule no longer holds; the decisions say which rule did what', async () => {
    const { idp, id } = await connection();
    const basic = await createLicense(t.app, 'LR Basic', null);
    const eng = await createLicense(t.app, 'LR Engineering', 10);
    const sales = await createLicense(t.app, 'LR Sales', 10);
    const set = await setRules(id, [
      { licenseId: basic, kind: 'EVERYONE' },
      { licenseId: eng, kind: 'GROUP', groupValue: 'eng', revokeUnmatched: true },
      { licenseId: sales, kind: 'EXPRESSION', expression: `$attributes.dept[0] = 'Sales'` },
    ]);
    expect(set.__typename).toBe('MutationSetLicenseRulesSuccess');

    const name = 'greta@contoso.example';
    const first = await postAcs(
      t.app,
      idp.response(name, person('Greta', name, { [EntraClaims.groups]: ['eng'], dept: 'Sales' })),
    );
    expect(first.status).toBe(200);
    expect(first.body.licensesGranted).toEqual(['LR Basic', 'LR Engineering', 'LR Sales']);
    expect(
      (first.body.licenseDecisions as { license: string; decision: string }[])
        .map((d) => [d.license, d.decision])
        .sort(),
    ).toEqual([
      ['LR Basic', 'GRANTED'],
      ['LR Engineering', 'GRANTED'],
      ['LR Sales', 'GRANTED'],
    ]);

    // Leaves the group and the department: the group rule takes its license back, the expression rule does not.
    const later = await postAcs(
      t.app,
      idp.response(name, person('Greta', name, { [EntraClaims.groups]: ['ops'], dept: 'Support' })),
    );
    expect(later.status).toBe(200);
    const decisions = Object.fromEntries(
      (later.body.licenseDecisions as { license: string; decision: string }[]).map((d) => [
        d.license,
        d.decision,
      ]),
    );
    expect(decisions).toEqual({ 'LR Basic': 'HELD', 'LR Engineering': 'REVOKED', 'LR Sales': 'NOT_MATCHED' });
    const held = await t.sql<{ name: string }>(
      `select l.name from license_grant g join license l on l.id = g.license_id join app_user u on u.id = g.user_id
        where u.username = $1 order by l.name`,
      [name],
    );
    expect(held.map((h) => h.name)).toEqual(['LR Basic', 'LR Sales']);
    const [engRow] = await t.sql<{ used: number }>('select used from license where id = $1', [dbId(eng)]);
    expect(engRow!.used).toBe(0);
    const event = await lastEvent(name);
    expect(event!.license_decisions.find((d) => d.license === 'LR Engineering')).toMatchObject({
      decision: 'REVOKED',
    });
    expect(event!.license_decisions.every((d) => d.ruleId)).toBe(true);
  });

  it('seats run out: a SKIP rule lets the person in without it (NO_SEAT), a REFUSE rule refuses (LICENSE_SEATS_EXHAUSTED) and writes nothing', async () => {
    const { idp, id } = await connection();
    const skip = await createLicense(t.app, 'LR Skip', 1);
    const refuse = await createLicense(t.app, 'LR Refuse', 1);
    await setRules(id, [{ licenseId: skip, kind: 'EVERYONE', onExhausted: 'SKIP' }]);
    expect(
      (await postAcs(t.app, idp.response('s1@contoso.example', person('S', 's1@contoso.example')))).status,
    ).toBe(200);
    const second = await postAcs(
      t.app,
      idp.response('s2@contoso.example', person('S', 's2@contoso.example')),
    );
    expect(second.status).toBe(200);
    expect(second.body.licenseDecisions).toEqual([
      expect.objectContaining({ license: 'LR Skip', decision: 'NO_SEAT' }),
    ]);

    await setRules(id, [{ licenseId: refuse, kind: 'EVERYONE', onExhausted: 'REFUSE' }]);
    expect(
      (await postAcs(t.app, idp.response('r1@contoso.example', person('R', 'r1@contoso.example')))).status,
    ).toBe(200);
    const refused = await postAcs(
      t.app,
      idp.response('r2@contoso.example', person('R', 'r2@contoso.example')),
    );
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'LICENSE_SEATS_EXHAUSTED' });
    expect((refused.body.error as { message: string }).message).toContain('LR Refuse');
    expect(await userOf('r2@contoso.example')).toBeUndefined();
  });

  it('rule-based seats are never oversubscribed across two processes: 5 seats, 20 racing first sign-ins', async () => {
    const { idp, id } = await connection();
    const skip = await createLicense(t.app, 'LR Race Skip', 5);
    const refuse = await createLicense(t.app, 'LR Race Refuse', 3);
    await setRules(id, [{ licenseId: skip, kind: 'GROUP', groupValue: 'racers' }], true);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const name = `racer${i}@contoso.example`;
        return postAcs(
          i % 2 ? peer : t.app,
          idp.response(name, person('Racer', name, { [EntraClaims.groups]: ['racers'] })),
        );
      }),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    const [s] = await t.sql<{ used: number; grants: string }>(
      'select used, (select count(*) from license_grant where license_id = $1) as grants from license where id = $1',
      [dbId(skip)],
    );
    expect(s).toEqual({ used: 5, grants: '5' });

    await setRules(id, [{ licenseId: refuse, kind: 'EVERYONE', onExhausted: 'REFUSE' }]);
    const refusing = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const name = `refuser${i}@contoso.example`;
        return postAcs(i % 2 ? peer : t.app, idp.response(name, person('Refuser', name)));
      }),
    );
    expect(refusing.filter((r) => r.status === 200)).toHaveLength(3);
    expect(
      refusing.filter(
        (r) => (r.body.error as { code?: string } | undefined)?.code === 'LICENSE_SEATS_EXHAUSTED',
      ),
    ).toHaveLength(7);
    const [users] = await t.sql<{ n: string }>(
      `select count(*) as n from app_user where username like 'refuser%'`,
    );
    expect(Number(users!.n)).toBe(3);
    const [r] = await t.sql<{ used: number }>('select used from license where id = $1', [dbId(refuse)]);
    expect(r!.used).toBe(3);
  });

  it('refuses bad rules when written: no group value, unknown license, an expression that does not compile, a group attribute no sign-in carried', async () => {
    const { idp, id } = await connection({ groupsAttribute: 'memberOf' });
    const lic = await createLicense(t.app, 'LR Bad', null);
    expect(await setRules(id, [{ licenseId: lic, kind: 'GROUP' }])).toMatchObject({
      __typename: 'InputError',
      code: 'RULE_INVALID',
      path: ['rules', '0', 'groupValue'],
    });
    expect(
      await setRules(id, [
        { licenseId: 'TGljZW5zZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=', kind: 'EVERYONE' },
      ]),
    ).toMatchObject({
      code: 'RULE_INVALID',
      path: ['rules', '0', 'licenseId'],
    });
    const bad = await setRules(id, [{ licenseId: lic, kind: 'EXPRESSION', expression: '$attributes.(' }]);
    expect(bad).toMatchObject({ code: 'RULE_INVALID', path: ['rules', '0', 'expression'] });
    expect(bad.message).toContain('expression');

    // A sign-in that carried no memberOf: a group rule on it could never match.
    expect(
      (
        await postAcs(
          t.app,
          idp.response('nogroups@contoso.example', person('No', 'nogroups@contoso.example')),
        )
      ).status,
    ).toBe(200);
    const unknown = await setRules(id, [{ licenseId: lic, kind: 'GROUP', groupValue: 'eng' }]);
    expect(unknown).toMatchObject({ code: 'GROUPS_ATTRIBUTE_NOT_SEEN', path: ['rules'] });
    expect(unknown.message).toContain('memberOf');
    expect(
      (await setRules(id, [{ licenseId: lic, kind: 'GROUP', groupValue: 'eng' }], true)).__typename,
    ).toBe('MutationSetLicenseRulesSuccess');
    const [n] = await t.sql<{ n: string }>(
      'select count(*) as n from license_rule where connection_id = $1',
      [dbId(id)],
    );
    expect(Number(n!.n)).toBe(1);
  });
});

describe('roles from groups', () => {
  it('group → role rules at every sign-in, admin from adminGroups, the overage keeps the roles held and is recorded', async () => {
    const { idp, id } = await connection({ adminGroups: ['jitprov-admins'] });
    const created = await gql<{ createRole: { __typename: string; id: string } }>(
      t.app,
      `mutation { createRole(input: { name: "editor", description: "Edits content" }) { __typename ... on Role { id } } }`,
    );
    expect(created.data?.createRole.__typename).toBe('Role');
    const rules = await gql<{ setRoleRules: { __typename: string } }>(
      t.app,
      `mutation($c: ID!, $rules: [RoleRuleInput!]!) { setRoleRules(connectionId: $c, rules: $rules, force: true) { __typename ... on InputError { code message } } }`,
      { c: id, rules: [{ groupValue: 'editors', roleId: created.data!.createRole.id }] },
    );
    expect(rules.data?.setRoleRules.__typename).toBe('MutationSetRoleRulesSuccess');

    const name = 'rolf@contoso.example';
    const groups = EntraClaims.groups;
    const r1 = await postAcs(
      t.app,
      idp.response(name, person('Rolf', name, { [groups]: ['editors', 'jitprov-admins'] })),
    );
    expect(r1.body.roles).toEqual(['admin', 'editor']);
    expect((await userOf(name))!.is_admin).toBe(true);

    const read = await gql<{ node: { roles: { name: string; builtin: boolean }[] } }>(
      t.app,
      `query($id: ID!) { node(id: $id) { ... on User { roles { name builtin } } } }`,
      { id: (r1.body.user as { id: string }).id },
    );
    expect(read.data?.node.roles).toEqual([
      { name: 'admin', builtin: true },
      { name: 'editor', builtin: false },
    ]);

    // Over 150 groups: Entra sends a link instead of the groups. The roles stay as they were.
    const overage = await postAcs(
      t.app,
      idp.response(
        name,
        person('Rolf', name, {
          [EntraClaims.groupsLink]: 'https://graph.microsoft.com/v1.0/users/x/getMemberObjects',
        }),
      ),
    );
    expect(overage.status).toBe(200);
    expect(overage.body).toMatchObject({ roles: ['admin', 'editor'], groupOverage: true });
    expect(await lastEvent(name)).toMatchObject({ group_overage: true, roles: ['admin', 'editor'] });

    const r3 = await postAcs(t.app, idp.response(name, person('Rolf', name, { [groups]: ['readers'] })));
    expect(r3.body).toMatchObject({ roles: [], groupOverage: false });
    expect((await userOf(name))!.is_admin).toBe(false);
  });

  it('the built-in admin role cannot be removed; a rule for an unknown role is refused', async () => {
    const roles = await gql<{ roles: { id: string; name: string }[] }>(t.app, '{ roles { id name } }');
    const admin = roles.data!.roles.find((r) => r.name === 'admin')!;
    const removed = await gql<{ removeRole: { __typename: string; code?: string } }>(
      t.app,
      `mutation($id: ID!) { removeRole(id: $id) { __typename ... on InputError { code } } }`,
      { id: admin.id },
    );
    expect(removed.data?.removeRole).toEqual({ __typename: 'InputError', code: 'ROLE_BUILTIN' });
    const { id } = await connection();
    const bad = await gql<{ setRoleRules: { __typename: string; code?: string; path?: string[] } }>(
      t.app,
      `mutation($c: ID!, $rules: [RoleRuleInput!]!) { setRoleRules(connectionId: $c, rules: $rules) { __typename ... on InputError { code path } } }`,
      {
        c: id,
        rules: [{ groupValue: 'x', roleId: 'Um9sZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=' }],
      },
    );
    expect(bad.data?.setRoleRules).toMatchObject({ code: 'RULE_INVALID', path: ['rules', '0', 'roleId'] });
  });
});

describe('inactivity policy', () => {
  it('lists who it would act on, then two processes running it at once act once: blocked, sessions ended, seats back, audited', async () => {
    const { idp, id } = await connection({ inactivityDays: 30, inactivityAction: 'BLOCK_AND_RELEASE' });
    const lic = await createLicense(t.app, 'Idle seats', 10);
    const names = ['idle1@contoso.example', 'idle2@contoso.example', 'active@contoso.example'];
    for (const n of names)
      expect((await postAcs(t.app, idp.response(n, person('Idle', n)))).status).toBe(200);
    await t.sql(
      `update app_user set last_login_at = now() - interval '45 days' where username in ('idle1@contoso.example', 'idle2@contoso.example')`,
    );
    const dry = await gql<{
      inactiveUsers: { user: { username: string }; willBlock: boolean; willReleaseSeats: boolean }[];
    }>(
      t.app,
      `query($c: ID) { inactiveUsers(connectionId: $c) { user { username } willBlock willReleaseSeats } }`,
      { c: id },
    );
    expect(dry.data?.inactiveUsers.map((u) => u.user.username).sort()).toEqual([
      'idle1@contoso.example',
      'idle2@contoso.example',
    ]);
    expect(dry.data?.inactiveUsers.every((u) => u.willBlock && u.willReleaseSeats)).toBe(true);
    expect((await userOf('idle1@contoso.example'))!.status).toBe('ACTIVE');

    const RUN = `mutation { runInactivityPolicy { ran blocked seatsReleased } }`;
    const runs = await Promise.all([
      gql<{ runInactivityPolicy: { ran: boolean; blocked: number } }>(t.app, RUN),
      gql<{ runInactivityPolicy: { ran: boolean; blocked: number } }>(peer, RUN),
    ]);
    expect(runs.reduce((n, r) => n + r.data!.runInactivityPolicy.blocked, 0)).toBe(2);

    for (const n of names.slice(0, 2)) {
      const u = await userOf(n);
      expect(u!.status).toBe('BLOCKED');
      expect(
        await t.sql('select 1 from user_session where user_id = $1 and revoked_at is null', [u!.id]),
      ).toHaveLength(0);
      expect(await t.sql('select 1 from license_grant where user_id = $1', [u!.id])).toHaveLength(0);
    }
    expect((await userOf('active@contoso.example'))!.status).toBe('ACTIVE');
    const [l] = await t.sql<{ used: number }>('select used from license where id = $1', [dbId(lic)]);
    expect(l!.used).toBe(1);
    const audit = await t.sql<{ target_id: string }>(
      `select target_id from admin_audit_event where actor = 'inactivity-policy' and action = 'user.inactive'`,
    );
    expect(audit).toHaveLength(2);
    // Nothing left to do: a third run acts on nobody.
    expect(
      (await gql<{ runInactivityPolicy: { blocked: number } }>(t.app, RUN)).data?.runInactivityPolicy.blocked,
    ).toBe(0);
    const blocked = await postAcs(
      t.app,
      idp.response('idle1@contoso.example', person('Idle', 'idle1@contoso.example')),
    );
    expect(blocked.body.error).toMatchObject({ code: 'USER_BLOCKED' });
  });
});

describe('inactivity policy in two server processes', () => {
  /** The real server entry on the test database, running the policy every second. */
  function server(dataDir: string): ChildProcess {
    return spawn(process.execPath, [SERVER_ENTRY], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: t.databaseUrl,
        ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests',
        DATA_DIR: dataDir,
        INACTIVITY_INTERVAL_SECONDS: '1',
      },
      stdio: 'ignore',
    });
  }

  it('both run it every second; each inactive person is acted on exactly once', async () => {
    const { idp } = await connection({ inactivityDays: 7, inactivityAction: 'BLOCK' });
    const names = Array.from({ length: 6 }, (_, i) => `sleeper${i}@contoso.example`);
    for (const n of names)
      expect((await postAcs(t.app, idp.response(n, person('Sleeper', n)))).status).toBe(200);
    await t.sql(
      `update app_user set last_login_at = now() - interval '8 days' where username like 'sleeper%'`,
    );

    const dirs = [0, 1].map(() => mkdtempSync(path.join(tmpdir(), 'jitprov-inactivity-')));
    const servers = dirs.map(server);
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const [blocked] = await t.sql<{ n: string }>(
          `select count(*) as n from app_user where username like 'sleeper%' and status = 'BLOCKED'`,
        );
        if (Number(blocked!.n) === names.length) break;
        if (Date.now() > deadline)
          throw new Error(`only ${blocked!.n} of ${names.length} blocked within 60 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // Both keep running the policy for a few more rounds: nobody is acted on twice.
      await new Promise((r) => setTimeout(r, 2500));
      const audit = await t.sql<{ target_id: string; n: string }>(
        `select a.target_id, count(*) as n from admin_audit_event a join app_user u on u.id::text = a.target_id
          where a.actor = 'inactivity-policy' and u.username like 'sleeper%' group by a.target_id`,
      );
      expect(audit).toHaveLength(names.length);
      expect(audit.every((a) => a.n === '1')).toBe(true);
    } finally {
      for (const s of servers) s.kill('SIGTERM');
      await Promise.all(
        servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.on('exit', r)))),
      );
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 90_000);
});
