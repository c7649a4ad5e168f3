/**
 * The two reads the admin console needs beside the rest of the API: metadata read before it is saved
 * (readIdpMetadata) and the attribute names recent sign-ins carried (IdpConnection.seenAttributes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const READ = `query($xml: String!) {
  readIdpMetadata(metadataXml: $xml) {
    __typename
    ... on IdpMetadataPreview {
      entityId ssoRedirectUrl ssoPostUrl wantAuthnRequestsSigned certificates { subject notAfter fingerprintSha256 }
    }
    ... on InputError { code message path }
  }
}`;

describe('readIdpMetadata', () => {
  it('shows what would be pinned, certificates with subject and expiry, and writes nothing', async () => {
    const idp = await TestIdp.create();
    const r = await gql<{ readIdpMetadata: Record<string, any> }>(t.app, READ, { xml: idp.metadata() });
    expect(r.errors).toBeUndefined();
    const data = r.data!.readIdpMetadata;
    expect(data.entityId).toBe(idp.entityId);
    expect(data.ssoRedirectUrl).toContain('login.microsoftonline.com');
    expect(data.certificates).toHaveLength(1);
    expect(data.certificates[0].subject).toMatch(/CN=/);
    expect(new Date(data.certificates[0].notAfter).getTime()).toBeGreaterThan(Date.now());
    const list = await gql<{ connections: unknown[] }>(t.app, '{ connections { id } }');
    expect(list.data!.connections).toEqual([]);
  });

  it('refuses what is not IdP metadata with a typed error, and anonymous callers', async () => {
    const r = await gql<{ readIdpMetadata: Record<string, any> }>(t.app, READ, { xml: '<nope/>' });
    expect(r.data!.readIdpMetadata.__typename).toBe('InputError');
    expect(r.data!.readIdpMetadata.code).toMatch(/^METADATA_/);
    const idp = await TestIdp.create();
    const anon = await gql(t.app, READ, { xml: idp.metadata() }, null);
    expect(anon.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('seenAttributes', () => {
  it('lists the names (never values) the recent sign-ins carried, most carried first', async () => {
    const idp = await TestIdp.create();
    const id = await createConnection(t.app, idp);
    expect(
      (
        await postAcs(
          t.app,
          idp.response('a@contoso.example', entraClaims('A', 'One', 'a@contoso.example', { dept: 'Sales' })),
        )
      ).status,
    ).toBe(200);
    expect(
      (await postAcs(t.app, idp.response('b@contoso.example', entraClaims('B', 'Two', 'b@contoso.example'))))
        .status,
    ).toBe(200);
    const r = await gql<{ node: { seenAttributes: { name: string; signIns: number }[] } }>(
      t.app,
      'query($id: ID!) { node(id: $id) { ... on IdpConnection { seenAttributes { name signIns lastSeenAt } } } }',
      { id },
    );
    expect(r.errors).toBeUndefined();
    const seen = r.data!.node.seenAttributes;
    expect(seen.find((a) => a.name === 'dept')).toMatchObject({ signIns: 1 });
    expect(seen.at(-1)?.name).toBe('dept');
    expect(seen[0]!.signIns).toBe(2);
    expect(JSON.stringify(seen)).not.toContain('Sales');
  });
});
