import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

const DEPT = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/department';

let t: TestApp;
let idp: TestIdp;
let connectionId: string;

async function tableCounts() {
  const [row] = await t.sql<Record<string, string>>(
    `select (select count(*) from app_user) u, (select count(*) from contact) c, (select count(*) from license_grant) g,
            (select count(*) from consumed_assertion) a, (select count(*) from user_session) s,
            (select count(*) from provisioning_event) e, (select count(*) from attribute_mapping) m`,
  );
  return row;
}

beforeAll(async () => {
  t = await createTestApp();
  idp = await TestIdp.create();
  connectionId = await createConnection(t.app, idp, { refreshOnLogin: true });
  const ok = (m: Record<string, unknown>) => expect(m.__typename, JSON.stringify(m)).toBe('AttributeMapping');
  ok(await addMapping(t.app, connectionId, EntraClaims.emailAddress, 'email', true));
  ok(
    await addMapping(t.app, connectionId, EntraClaims.givenName, 'givenName', false, {
      writePolicy: 'ON_CREATE',
    }),
  );
  ok(await addMapping(t.app, connectionId, EntraClaims.surname, 'surname', false, { writePolicy: 'ALWAYS' }));
  ok(await addMapping(t.app, connectionId, DEPT, 'department', false, { writePolicy: 'IF_EMPTY' }));
  ok(
    await addMapping(t.app, connectionId, EntraClaims.groups, 'jobTitle', false, {
      multiValue: 'JOIN',
      separator: ' / ',
    }),
  );
  ok(
    await addMapping(t.app, connectionId, 'http://example.com/claims/country', 'country', false, {
      defaultValue: 'nl',
    }),
  );
  ok(
    await addMapping(t.app, connectionId, EntraClaims.displayName, 'fullName', false, {
      kind: 'TRANSFORM',
      plugin: 'expression',
      params: { expression: '$uppercase($value)' },
    }),
  );
});
afterAll(() => t.close());

const ADD = `mutation($input: AddAttributeMappingInput!) {
  addAttributeMapping(input: $input) { __typename ... on InputError { code message path } }
}`;

describe('mappings are validated when written', () => {
  it.each([
    [
      'an unknown plugin',
      { kind: 'TRANSFORM', plugin: 'no-such-plugin', column: 'city' },
      'PLUGIN_NOT_FOUND',
      ['input', 'mapping', 'plugin'],
    ],
    [
      'an expression that does not compile',
      { kind: 'TRANSFORM', plugin: 'expression', params: { expression: '$uppercase(' }, column: 'city' },
      'EXPRESSION_INVALID',
      ['input', 'mapping', 'params', 'expression'],
    ],
    [
      'parameters that miss the schema',
      { kind: 'TRANSFORM', plugin: 'expression', params: { expresion: '1' }, column: 'city' },
      'PLUGIN_PARAMS_INVALID',
      ['input', 'mapping', 'params'],
    ],
    [
      'a COPY without attribute',
      { column: 'city' },
      'MAPPING_INVALID',
      ['input', 'mapping', 'attributeName'],
    ],
    [
      'a default that does not fit the column',
      { attributeName: 'x', column: 'email', defaultValue: 'not-an-email' },
      'MAPPING_INVALID',
      ['input', 'mapping', 'defaultValue'],
    ],
    [
      'a required mapping with a default',
      { attributeName: 'x', column: 'city', required: true, defaultValue: 'Paris' },
      'MAPPING_INVALID',
      ['input', 'mapping', 'defaultValue'],
    ],
    [
      'a second mapping into one column',
      { attributeName: 'x', column: 'email' },
      'MAPPING_INVALID',
      ['input', 'mapping', 'column'],
    ],
  ])('refuses %s, writing nothing', async (_label, mapping, code, path) => {
    const before = await tableCounts();
    const r = await gql<{ addAttributeMapping: Record<string, unknown> }>(t.app, ADD, {
      input: { connectionId, mapping },
    });
    expect(r.errors).toBeUndefined();
    expect(r.data?.addAttributeMapping).toMatchObject({ __typename: 'InputError', code });
    expect((r.data!.addAttributeMapping.path as string[]).slice(0, path.length)).toEqual(path);
    expect(await tableCounts()).toEqual(before);
  });

  it('lists the plugins with their parameter JSON Schema', async () => {
    const r = await gql<{ transformPlugins: { name: string; paramsSchema: { type?: string } }[] }>(
      t.app,
      '{ transformPlugins { name version description paramsSchema } }',
    );
    const expression = r.data?.transformPlugins.find((p) => p.name === 'expression');
    expect(expression?.paramsSchema).toMatchObject({ type: 'object' });
  });
});

describe('preview', () => {
  it('shows before, after and the producing mapping per column, and writes nothing', async () => {
    const before = await tableCounts();
    const r = await gql<{ previewMappings: Record<string, unknown> }>(
      t.app,
      `query($input: PreviewMappingsInput!) { previewMappings(input: $input) {
        __typename
        ... on MappingPreview { nameId userExists rows { column before after willWrite plugin error { code message } } }
        ... on InputError { code message path }
      } }`,
      {
        input: {
          connectionId,
          nameId: 'preview@contoso.example',
          attributes: [
            { name: EntraClaims.emailAddress, values: ['preview@contoso.example'] },
            { name: EntraClaims.displayName, values: ['Pre View'] },
            { name: EntraClaims.groups, values: ['a', 'b'] },
          ],
        },
      },
    );
    expect(r.errors).toBeUndefined();
    const preview = r.data!.previewMappings as { userExists: boolean; rows: Record<string, unknown>[] };
    expect(preview.userExists).toBe(false);
    const byColumn = Object.fromEntries(preview.rows.map((row) => [row.column, row]));
    expect(byColumn.fullName).toMatchObject({
      before: null,
      after: 'PRE VIEW',
      willWrite: true,
      plugin: 'expression',
    });
    expect(byColumn.jobTitle).toMatchObject({ after: 'a / b', willWrite: true });
    expect(byColumn.country).toMatchObject({ after: 'NL', willWrite: true });
    expect(byColumn.givenName).toMatchObject({ after: null, willWrite: false });
    expect(await tableCounts()).toEqual(before);
  });

  it('reads a captured SAMLResponse without consuming it', async () => {
    const response = idp.response(
      'captured@contoso.example',
      entraClaims('Cap', 'Tured', 'captured@contoso.example'),
    );
    const r = await gql<{ previewMappings: { nameId: string; rows: { column: string; after: unknown }[] } }>(
      t.app,
      `query($input: PreviewMappingsInput!) { previewMappings(input: $input) {
        ... on MappingPreview { nameId rows { column after } } ... on InputError { code message }
      } }`,
      { input: { connectionId, samlResponse: response } },
    );
    expect(r.data?.previewMappings.nameId).toBe('captured@contoso.example');
    expect(r.data?.previewMappings.rows.find((x) => x.column === 'surname')?.after).toBe('Tured');
    // Not consumed: the very same response still signs the person in.
    expect((await postAcs(t.app, response)).status).toBe(200);
  });
});

describe('sign-ins apply the mappings', () => {
  it('creates the contact with transformed, joined and defaulted values and audits each field', async () => {
    const res = await postAcs(
      t.app,
      idp.response('ana@contoso.example', {
        ...entraClaims('Ana', 'Lima', 'ana@contoso.example'),
        [EntraClaims.groups]: ['Sales', 'EMEA'],
        [DEPT]: 'Finance',
      }),
    );
    expect(res.status).toBe(200);
    const [c] = await t.sql(
      `select full_name, job_title, country, department, given_name from contact c join app_user u on u.id = c.user_id
       where u.username = 'ana@contoso.example'`,
    );
    expect(c).toEqual({
      full_name: 'ANA LIMA',
      job_title: 'Sales / EMEA',
      country: 'NL',
      department: 'Finance',
      given_name: 'Ana',
    });
    const [event] = await t.sql<{ changes: { column: string }[] }>(
      `select changes from provisioning_event where name_id = 'ana@contoso.example' and outcome = 'CREATED'`,
    );
    expect(event!.changes.map((ch) => ch.column).sort()).toEqual(
      ['country', 'department', 'email', 'fullName', 'givenName', 'jobTitle', 'surname'].sort(),
    );
  });

  it('refreshes only the columns whose write policy says so', async () => {
    await t.sql(
      `update contact set department = null where user_id = (select id from app_user where username = 'ana@contoso.example')`,
    );
    const res = await postAcs(
      t.app,
      idp.response('ana@contoso.example', {
        ...entraClaims('Anabel', 'Lima-Souza', 'ana@contoso.example'),
        [EntraClaims.groups]: ['Sales', 'EMEA'],
        [DEPT]: 'Legal',
      }),
    );
    expect(res.status).toBe(200);
    const [c] = await t.sql(
      `select given_name, surname, department from contact c join app_user u on u.id = c.user_id
       where u.username = 'ana@contoso.example'`,
    );
    // ON_CREATE kept, ALWAYS refreshed, IF_EMPTY filled the emptied column.
    expect(c).toEqual({ given_name: 'Ana', surname: 'Lima-Souza', department: 'Legal' });
    const [event] = await t.sql<{
      outcome: string;
      changes: { column: string; old: unknown; new: unknown }[];
    }>(
      `select outcome, changes from provisioning_event where name_id = 'ana@contoso.example' order by created_at desc limit 1`,
    );
    expect(event!.outcome).toBe('UPDATED');
    expect(event!.changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ column: 'surname', old: 'Lima', new: 'Lima-Souza' }),
        expect.objectContaining({ column: 'fullName', old: 'ANA LIMA', new: 'ANABEL LIMA-SOUZA' }),
        expect.objectContaining({ column: 'department', old: null, new: 'Legal' }),
      ]),
    );
    expect(event!.changes.map((ch) => ch.column)).not.toContain('givenName');
  });

  it('a plugin error refuses the sign-in and leaves nothing but the audit event', async () => {
    const broken = await TestIdp.create();
    const id = await createConnection(t.app, broken);
    await addMapping(t.app, id, EntraClaims.emailAddress, 'email', true);
    // Fails on every value the IdP sends (absent, it has nothing to fail on: it passes the dry run).
    await addMapping(t.app, id, EntraClaims.displayName, 'fullName', false, {
      kind: 'TRANSFORM',
      plugin: 'expression',
      params: { expression: '$exists($value) ? $error("no display names today") : null' },
      onFailure: 'REFUSE',
    });
    const before = await tableCounts();
    const res = await postAcs(
      t.app,
      broken.response('err@fabrikam.example', entraClaims('E', 'R', 'err@fabrikam.example')),
    );
    expect(res.body).toMatchObject({ error: { code: 'TRANSFORM_FAILED' } });
    expect(String((res.body.error as { message: string }).message)).toContain('fullName');
    expect(await tableCounts()).toEqual({ ...before, e: String(Number(before!.e) + 1) });
  });
});

describe('update and reorder', () => {
  it('reorders every mapping of a connection and refuses a partial list', async () => {
    const list = await gql<{ attributeMappings: { id: string; column: string }[] }>(
      t.app,
      `query($id: ID!) { attributeMappings(connectionId: $id) { id column } }`,
      { id: connectionId },
    );
    const ids = list.data!.attributeMappings.map((m) => m.id);
    const reversed = [...ids].reverse();
    const r = await gql<{ reorderAttributeMappings: Record<string, unknown> }>(
      t.app,
      `mutation($input: ReorderAttributeMappingsInput!) { reorderAttributeMappings(input: $input) {
        __typename ... on MutationReorderAttributeMappingsSuccess { data { id position } }
        ... on InputError { code path } } }`,
      { input: { connectionId, mappingIds: reversed } },
    );
    const data = (r.data!.reorderAttributeMappings as { data: { id: string; position: number }[] }).data;
    expect(data.map((m) => m.id)).toEqual(reversed);
    expect(data.map((m) => m.position)).toEqual(reversed.map((_, i) => i));
    const partial = await gql<{ reorderAttributeMappings: Record<string, unknown> }>(
      t.app,
      `mutation($input: ReorderAttributeMappingsInput!) { reorderAttributeMappings(input: $input) {
        __typename ... on InputError { code path } } }`,
      { input: { connectionId, mappingIds: reversed.slice(1) } },
    );
    expect(partial.data?.reorderAttributeMappings).toMatchObject({
      code: 'VALIDATION_FAILED',
      path: ['input', 'mappingIds'],
    });
  });

  it('updates a mapping, validating it like a new one', async () => {
    const list = await gql<{ attributeMappings: { id: string; column: string }[] }>(
      t.app,
      `query($id: ID!) { attributeMappings(connectionId: $id) { id column } }`,
      { id: connectionId },
    );
    const city = list.data!.attributeMappings.find((m) => m.column === 'country')!;
    const q = `mutation($input: UpdateAttributeMappingInput!) { updateAttributeMapping(input: $input) {
      __typename ... on AttributeMapping { column writePolicy defaultValue } ... on InputError { code path } } }`;
    const ok = await gql<{ updateAttributeMapping: unknown }>(t.app, q, {
      input: {
        id: city.id,
        mapping: { attributeName: 'c', column: 'country', writePolicy: 'IF_EMPTY', defaultValue: 'DE' },
      },
    });
    expect(ok.data?.updateAttributeMapping).toEqual({
      __typename: 'AttributeMapping',
      column: 'country',
      writePolicy: 'IF_EMPTY',
      defaultValue: 'DE',
    });
    const bad = await gql<{ updateAttributeMapping: unknown }>(t.app, q, {
      input: { id: city.id, mapping: { attributeName: 'c', column: 'email' } },
    });
    expect(bad.data?.updateAttributeMapping).toMatchObject({
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'column'],
    });
  });
});
