import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, gql, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let idp: TestIdp;
let connectionId: string;

beforeAll(async () => {
  t = await createTestApp();
  idp = await TestIdp.create();
  connectionId = await createConnection(t.app, idp);
});
afterAll(() => t.close());

const CREATE_CONNECTION = `mutation($input: CreateConnectionInput!) {
  createConnection(input: $input) {
    __typename
    ... on IdpConnection { id entityId ssoRedirectUrl certificates { subject notAfter fingerprintSha256 } }
    ... on InputError { code message path }
  }
}`;

describe('IdP connections from metadata', () => {
  it('reads entity id, SSO URL and certificate expiry from Entra metadata', async () => {
    const r = await gql<{ connections: Record<string, unknown>[] }>(
      t.app,
      `{ connections { entityId ssoRedirectUrl jitEnabled wantResponseSigned clockSkewSeconds
         certificates { notAfter fingerprintSha256 } } }`,
    );
    expect(r.data?.connections).toHaveLength(1);
    const c = r.data!.connections[0]!;
    expect(c).toMatchObject({
      entityId: idp.entityId,
      jitEnabled: true,
      wantResponseSigned: false,
      clockSkewSeconds: 60,
    });
    expect(String(c.ssoRedirectUrl)).toMatch(/^https:\/\/login\.microsoftonline\.com\/.+\/saml2$/);
    const certs = c.certificates as { notAfter: string }[];
    expect(certs).toHaveLength(1);
    expect(new Date(certs[0]!.notAfter).getTime()).toBeGreaterThan(Date.now());
  });

  it.each([
    ['sp-only.xml', 'METADATA_NOT_IDP'],
    ['encryption-key-only.xml', 'METADATA_NO_SIGNING_KEY'],
    ['doctype-xxe.xml', 'METADATA_INVALID'],
    ['malformed.xml', 'METADATA_INVALID'],
  ])('refuses %s with %s naming the metadataXml field, writing nothing', async (file, code) => {
    const metadataXml = readFileSync(new URL(`../fixtures/metadata/${file}`, import.meta.url), 'utf8');
    const r = await gql<{ createConnection: Record<string, unknown> }>(t.app, CREATE_CONNECTION, {
      input: { name: `bad ${file}`, metadataXml },
    });
    expect(r.data?.createConnection).toMatchObject({
      __typename: 'InputError',
      code,
      path: ['input', 'metadataXml'],
    });
    const rows = await t.sql(`select 1 from idp_connection where name = $1`, [`bad ${file}`]);
    expect(rows).toHaveLength(0);
  });

  it('refuses a second connection for the same IdP entity id', async () => {
    const r = await gql<{ createConnection: Record<string, unknown> }>(t.app, CREATE_CONNECTION, {
      input: { name: 'duplicate', metadataXml: idp.metadata() },
    });
    expect(r.data?.createConnection).toMatchObject({ __typename: 'InputError', code: 'CONFLICT' });
  });

  it('refuses an out-of-range option with the path of the field', async () => {
    const other = await TestIdp.create();
    const r = await gql<{ createConnection: Record<string, unknown> }>(t.app, CREATE_CONNECTION, {
      input: { name: 'skewed', metadataXml: other.metadata(), clockSkewSeconds: 100000 },
    });
    expect(r.data?.createConnection).toMatchObject({
      __typename: 'InputError',
      code: 'VALIDATION_FAILED',
      path: ['input', 'clockSkewSeconds'],
    });
  });

  it('accepts several signing certificates (rollover)', async () => {
    const next = await TestIdp.create();
    const rolling = await TestIdp.create();
    const r = await gql<{ createConnection: { certificates: unknown[] } }>(t.app, CREATE_CONNECTION, {
      input: { name: 'rolling', metadataXml: rolling.metadata([next.key.certPem]) },
    });
    expect(r.data?.createConnection.certificates).toHaveLength(2);
  });
});

describe('admin authorization', () => {
  it('refuses admin operations without a token and leaves other fields intact', async () => {
    const r = await gql<{ connections: unknown; contactFields: unknown[] }>(
      t.app,
      `{ connections { id } contactFields { name } }`,
      {},
      null,
    );
    expect(r.data?.connections).toBeNull();
    expect(r.data?.contactFields.length).toBeGreaterThan(0);
    expect(r.errors?.[0]?.message).toMatch(/not authorized/i);
  });

  it('refuses a wrong token as UNAUTHENTICATED: nothing of the request is served', async () => {
    const r = await gql<{ connections: unknown; contactFields: unknown[] }>(
      t.app,
      `{ connections { id } contactFields { name } }`,
      {},
      'not-the-admin-token-but-long-enough',
    );
    expect(r.data ?? null).toBeNull();
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'UNKNOWN' });
    expect(JSON.stringify(r)).not.toContain('not-the-admin-token-but-long-enough');
  });

  it('refuses createLicense without the admin token and writes nothing', async () => {
    const r = await gql<{ createLicense: unknown }>(
      t.app,
      `mutation { createLicense(input: { name: "Sneaky" }) { __typename } }`,
      {},
      null,
    );
    expect(r.data?.createLicense).toBeNull();
    expect(await t.sql(`select 1 from license where name = 'Sneaky'`)).toHaveLength(0);
  });
});

describe('licenses', () => {
  it('refuses negative seats and duplicate names', async () => {
    const q = `mutation($input: CreateLicenseInput!) {
      createLicense(input: $input) { __typename ... on InputError { code path } }
    }`;
    const neg = await gql<{ createLicense: unknown }>(t.app, q, { input: { name: 'Neg', seats: -1 } });
    expect(neg.data?.createLicense).toEqual({
      __typename: 'InputError',
      code: 'VALIDATION_FAILED',
      path: ['input', 'seats'],
    });
    await gql(t.app, q, { input: { name: 'Once', seats: 3 } });
    const dup = await gql<{ createLicense: unknown }>(t.app, q, { input: { name: 'Once' } });
    expect(dup.data?.createLicense).toEqual({
      __typename: 'InputError',
      code: 'CONFLICT',
      path: ['input', 'name'],
    });
  });
});

describe('attribute mappings are validated when written', () => {
  it('lists the mappable contact columns with their types', async () => {
    const r = await gql<{ contactFields: { name: string; type: string; multiValued: boolean }[] }>(
      t.app,
      `{ contactFields { name type maxLength multiValued } }`,
    );
    const byName = Object.fromEntries(r.data!.contactFields.map((f) => [f.name, f]));
    expect(byName.email).toMatchObject({ type: 'EMAIL', multiValued: false });
    expect(byName.groups).toMatchObject({ type: 'STRING_LIST', multiValued: true });
    expect(byName.country).toMatchObject({ type: 'COUNTRY', maxLength: 2 });
  });

  it('refuses an unknown column', async () => {
    const m = await addMapping(t.app, connectionId, EntraClaims.givenName, 'shoeSize');
    expect(m).toMatchObject({
      __typename: 'InputError',
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'column'],
    });
  });

  it('refuses a multi-valued attribute into a single-valued column', async () => {
    const m = await addMapping(t.app, connectionId, EntraClaims.groups, 'department');
    expect(m).toMatchObject({
      __typename: 'InputError',
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'column'],
    });
  });

  it('refuses a second mapping into the same column', async () => {
    expect(await addMapping(t.app, connectionId, EntraClaims.givenName, 'givenName')).toMatchObject({
      __typename: 'AttributeMapping',
      position: 0,
    });
    const m = await addMapping(t.app, connectionId, EntraClaims.displayName, 'givenName');
    expect(m).toMatchObject({
      __typename: 'InputError',
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'column'],
    });
  });

  it('refuses a malformed connection id', async () => {
    const m = await addMapping(t.app, 'bm90LWFuLWlk', EntraClaims.surname, 'surname');
    expect(m).toMatchObject({
      __typename: 'InputError',
      code: 'VALIDATION_FAILED',
      path: ['input', 'connectionId'],
    });
  });

  it('keeps mappings ordered and lists them on the connection', async () => {
    await addMapping(t.app, connectionId, EntraClaims.surname, 'surname');
    const r = await gql<{ connections: { mappings: { column: string; position: number }[] }[] }>(
      t.app,
      `{ connections { mappings { column position attributeName field { type } } } }`,
    );
    const mappings = r.data!.connections.find((c) => c.mappings.length > 0)!.mappings;
    expect(mappings.map((m) => [m.column, m.position])).toEqual([
      ['givenName', 0],
      ['surname', 1],
    ]);
  });
});
