import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let idp: TestIdp;
let connectionId: string;
beforeAll(async () => {
  t = await createTestApp();
  idp = await TestIdp.create();
  connectionId = await createConnection(t.app, idp, { refreshOnLogin: true });
});
afterAll(() => t.close());

const CREATE = `mutation($input: CreateContactFieldInput!) { createContactField(input: $input) {
  __typename ... on ContactField { name type custom enumValues } ... on InputError { code message path } } }`;

async function createField(input: Record<string, unknown>) {
  const r = await gql<{ createContactField: Record<string, unknown> }>(t.app, CREATE, { input });
  expect(r.errors).toBeUndefined();
  return r.data!.createContactField;
}

const READ = `query($id: ID!) { node(id: $id) { ... on Contact {
  email
  customFields { field { name type } string number boolean date strings }
  costCenter: custom(field: "costCenter") { number }
} } }`;

type Read = {
  node: {
    email: string;
    customFields: {
      field: { name: string };
      string: string | null;
      number: number | null;
      boolean: boolean | null;
      date: string | null;
      strings: string[] | null;
    }[];
    costCenter: { number: number } | null;
  };
};

const byName = (r: Read) => Object.fromEntries(r.node.customFields.map((v) => [v.field.name, v]));

describe('admin-defined contact fields', () => {
  it('are defined with their types, listed beside the built-in ones, mapped, coerced at sign-in and read back typed', async () => {
    for (const input of [
      { name: 'costCenter', label: 'Cost center', type: 'NUMBER' },
      { name: 'remote', label: 'Works remotely', type: 'BOOLEAN' },
      { name: 'hireDate', label: 'Hire date', type: 'DATE' },
      { name: 'tier', label: 'Tier', type: 'ENUM', enumValues: ['gold', 'silver', 'bronze'] },
      { name: 'skills', label: 'Skills', type: 'STRING_LIST' },
      { name: 'nickname', label: 'Nickname', type: 'STRING' },
    ]) {
      expect(await createField(input)).toMatchObject({
        __typename: 'ContactField',
        name: input.name,
        custom: true,
      });
    }
    const fields = await gql<{
      contactFields: { name: string; type: string; custom: boolean; enumValues: string[] | null }[];
    }>(t.app, '{ contactFields { name type custom enumValues } }');
    expect(fields.data?.contactFields.find((f) => f.name === 'tier')).toEqual({
      name: 'tier',
      type: 'ENUM',
      custom: true,
      enumValues: ['gold', 'silver', 'bronze'],
    });
    expect(fields.data?.contactFields.find((f) => f.name === 'email')).toMatchObject({ custom: false });

    await addMapping(
      t.app,
      connectionId,
      'http://schemas.microsoft.com/identity/claims/displayname',
      'fullName',
    );
    await addMapping(
      t.app,
      connectionId,
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
      'email',
    );
    for (const [attribute, field] of [
      ['costcenter', 'costCenter'],
      ['remote', 'remote'],
      ['hiredate', 'hireDate'],
      ['tier', 'tier'],
      ['skills', 'skills'],
      ['nick', 'nickname'],
    ]) {
      expect((await addMapping(t.app, connectionId, attribute as string, field as string)).__typename).toBe(
        'AttributeMapping',
      );
    }

    const name = 'carla@contoso.example';
    const claims = (extra: Record<string, string | string[]>) => entraClaims('Carla', 'Custom', name, extra);
    const first = await postAcs(
      t.app,
      idp.response(
        name,
        claims({
          costcenter: '4711',
          remote: 'Yes',
          hiredate: '2024-02-29T09:00:00Z',
          tier: 'gold',
          skills: ['sql', 'go'],
          nick: 'CC',
        }),
      ),
    );
    expect(first.status).toBe(200);
    const read = await gql<Read>(t.app, READ, { id: first.body.contactId });
    expect(read.errors).toBeUndefined();
    expect(byName(read.data!)).toEqual({
      costCenter: expect.objectContaining({ number: 4711, string: null }),
      remote: expect.objectContaining({ boolean: true }),
      hireDate: expect.objectContaining({ date: '2024-02-29' }),
      tier: expect.objectContaining({ string: 'gold' }),
      skills: expect.objectContaining({ strings: ['sql', 'go'] }),
      nickname: expect.objectContaining({ string: 'CC' }),
    });
    expect(read.data!.node.costCenter).toEqual({ number: 4711 });
    const [row] = await t.sql<{ custom: Record<string, unknown> }>(
      'select custom from contact c join app_user u on u.id = c.user_id where u.username = $1',
      [name],
    );
    expect(row!.custom).toEqual({
      costCenter: 4711,
      remote: true,
      hireDate: '2024-02-29',
      tier: 'gold',
      skills: ['sql', 'go'],
      nickname: 'CC',
    });

    // Refreshed at the next sign-in: the changed fields written, the others kept; the event says which.
    const second = await postAcs(
      t.app,
      idp.response(
        name,
        claims({
          costcenter: '4712',
          remote: 'no',
          hiredate: '2024-02-29',
          tier: 'silver',
          skills: ['sql', 'go'],
          nick: 'CC',
        }),
      ),
    );
    expect(second.status).toBe(200);
    const again = await gql<Read>(t.app, READ, { id: second.body.contactId });
    expect(byName(again.data!)).toMatchObject({
      costCenter: { number: 4712 },
      remote: { boolean: false },
      tier: { string: 'silver' },
      nickname: { string: 'CC' },
    });
    const [event] = await t.sql<{ changes: { column: string; old: unknown; new: unknown }[] }>(
      `select changes from provisioning_event where name_id = $1 order by created_at desc limit 1`,
      [name],
    );
    expect(event!.changes.map((c) => c.column).sort()).toEqual(['costCenter', 'remote', 'tier']);
    expect(event!.changes.find((c) => c.column === 'costCenter')).toMatchObject({ old: 4711, new: 4712 });

    // Filterable: by a number, an enum value, a list member.
    const FILTER = `query($f: ContactFilter) { contacts(first: 10, filter: $f) { totalCount edges { node { email } } } }`;
    for (const custom of [
      [{ field: 'costCenter', equals: '4712' }],
      [
        { field: 'tier', equals: 'silver' },
        { field: 'skills', equals: 'go' },
      ],
    ]) {
      const r = await gql<{ contacts: { totalCount: number; edges: { node: { email: string } }[] } }>(
        t.app,
        FILTER,
        { f: { custom } },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.contacts.edges.map((e) => e.node.email)).toEqual([name]);
    }
    const none = await gql<{ contacts: { totalCount: number } }>(t.app, FILTER, {
      f: { custom: [{ field: 'tier', equals: 'gold' }] },
    });
    expect(none.data!.contacts.totalCount).toBe(0);
    const unknown = await gql(t.app, FILTER, { f: { custom: [{ field: 'nope', equals: 'x' }] } });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('a value not in an ENUM field is refused by the mapping policy: kept for an optional mapping, refused for a required one', async () => {
    const name = 'enum@contoso.example';
    const r = await postAcs(t.app, idp.response(name, entraClaims('E', 'Num', name, { tier: 'platinum' })));
    expect(r.status).toBe(200);
    expect(r.body.fallbacks).toEqual([
      expect.objectContaining({ column: 'tier', policy: 'KEEP', code: 'MAPPING_VALUE_INVALID' }),
    ]);
    expect((r.body.fallbacks as { message: string }[])[0]!.message).toContain('gold, silver, bronze');

    const other = await TestIdp.create();
    const strict = await createConnection(t.app, other);
    await addMapping(t.app, strict, 'tier', 'tier', true);
    const refused = await postAcs(t.app, other.response('strict@contoso.example', { tier: 'platinum' }));
    expect(refused.body.error).toMatchObject({ code: 'MAPPING_VALUE_INVALID' });
    expect(await t.sql(`select 1 from app_user where username = 'strict@contoso.example'`)).toHaveLength(0);
  });

  it('refuses bad definitions and mapping defaults that do not fit, and removing a field a mapping uses', async () => {
    expect(await createField({ name: 'Bad-Name', label: 'x', type: 'STRING' })).toMatchObject({
      __typename: 'InputError',
      code: 'CONTACT_FIELD_INVALID',
      path: ['input', 'name'],
    });
    expect(await createField({ name: 'email', label: 'Email again', type: 'STRING' })).toMatchObject({
      code: 'CONTACT_FIELD_INVALID',
    });
    expect(await createField({ name: 'level', label: 'Level', type: 'ENUM' })).toMatchObject({
      code: 'CONTACT_FIELD_INVALID',
      path: ['input', 'enumValues'],
    });
    expect(
      await createField({ name: 'count', label: 'Count', type: 'NUMBER', enumValues: ['1'] }),
    ).toMatchObject({
      code: 'CONTACT_FIELD_INVALID',
    });
    expect(await createField({ name: 'costCenter', label: 'Again', type: 'NUMBER' })).toMatchObject({
      code: 'CONFLICT',
    });
    expect(await createField({ name: 'secret', label: 'Secret', type: 'EMAIL' })).toMatchObject({
      code: 'CONTACT_FIELD_INVALID',
    });

    const bad = await addMapping(t.app, connectionId, 'tier2', 'tier', false, {
      defaultValue: 'platinum',
      onFailure: 'DEFAULT',
    });
    expect(bad).toMatchObject({ __typename: 'InputError', code: 'MAPPING_INVALID' });

    const REMOVE = `mutation($name: String!) { removeContactField(name: $name) {
      __typename ... on MutationRemoveContactFieldSuccess { data } ... on InputError { code message } } }`;
    const inUse = await gql<{ removeContactField: { __typename: string; code?: string } }>(t.app, REMOVE, {
      name: 'nickname',
    });
    expect(inUse.data?.removeContactField).toMatchObject({
      __typename: 'InputError',
      code: 'CONTACT_FIELD_IN_USE',
    });
    expect(await t.sql(`select 1 from contact_field where name = 'nickname'`)).toHaveLength(1);

    await createField({ name: 'unused', label: 'Unused', type: 'STRING' });
    const removed = await gql<{ removeContactField: { __typename: string; data?: string } }>(t.app, REMOVE, {
      name: 'unused',
    });
    expect(removed.data?.removeContactField).toEqual({
      __typename: 'MutationRemoveContactFieldSuccess',
      data: 'unused',
    });
    const audit = await t.sql<{ action: string }>(
      `select action from admin_audit_event where action like 'contactField.%'`,
    );
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['contactField.create', 'contactField.remove']),
    );
  });
});
