import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { createEmbeddedTestApp, createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * The API's read paths, on PostgreSQL and on the embedded database that plain `npm start` runs:
 * every timestamp, list and JSON column as a client reads it. The embedded driver hands some
 * values over in other shapes (timestamps as strings), which once broke `users` there unseen.
 */
describe.each([
  ['PostgreSQL', () => createTestApp()],
  ['the embedded database (PGlite)', () => createEmbeddedTestApp()],
])('read paths on %s', (_name, open) => {
  let t: TestApp;
  let token: string;
  const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  beforeAll(async () => {
    t = await open();
    const idp = await TestIdp.create();
    const connectionId = await createConnection(t.app, idp);
    await addEntraMappings(t.app, connectionId);
    await createLicense(t.app, 'CRM', 10);
    const res = await postAcs(
      t.app,
      idp.response(
        'ada@contoso.example',
        entraClaims('Ada', 'Lovelace', 'ada@contoso.example', { [EntraClaims.groups]: ['g1', 'g2'] }),
      ),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    token = res.body.sessionToken as string;
  }, 120_000);
  afterAll(() => t.close());

  it('users, with their timestamps, contact and licenses', async () => {
    const r = await gql<{ users: { totalCount: number; edges: { node: Record<string, unknown> }[] } }>(
      t.app,
      `{ users(first: 10, orderBy: { field: LAST_SIGN_IN_AT, direction: DESC }) { totalCount edges { node {
        username status createdAt lastLoginAt contact { fullName groups createdAt updatedAt } licenses { name seats used createdAt }
      } } } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.users.totalCount).toBe(1);
    expect(r.data?.users.edges[0]?.node).toEqual({
      username: 'ada@contoso.example',
      status: 'ACTIVE',
      createdAt: iso,
      lastLoginAt: iso,
      contact: { fullName: 'Ada Lovelace', groups: ['g1', 'g2'], createdAt: iso, updatedAt: iso },
      licenses: [{ name: 'CRM', seats: 10, used: 1, createdAt: iso }],
    });
  });

  it('contacts and me, as a signed-in user', async () => {
    const contacts = await gql<{ contacts: { edges: { node: Record<string, unknown> }[] } }>(
      t.app,
      `{ contacts(first: 5, orderBy: { field: CREATED_AT }) { edges { cursor node { email createdAt user { username lastLoginAt } } } } }`,
      {},
      token,
    );
    expect(contacts.errors).toBeUndefined();
    expect(contacts.data?.contacts.edges[0]?.node).toEqual({
      email: 'ada@contoso.example',
      createdAt: iso,
      user: { username: 'ada@contoso.example', lastLoginAt: iso },
    });
    const me = await gql(t.app, '{ me { username createdAt lastLoginAt licenses { name } } }', {}, token);
    expect(me).toEqual({
      data: {
        me: {
          username: 'ada@contoso.example',
          createdAt: iso,
          lastLoginAt: iso,
          licenses: [{ name: 'CRM' }],
        },
      },
    });
  });

  it('connections, mappings, licenses and the audit lists', async () => {
    const r = await gql<Record<string, unknown>>(
      t.app,
      `{
        connections { name createdAt updatedAt certificates { notBefore notAfter } mappings { column onFailure } }
        licenses(first: 5) { edges { node { name createdAt available } } }
        provisioningEvents(first: 5) { edges { node { createdAt outcome changes fallbacks { column } licensesGranted } } }
        adminAuditEvents(first: 5) { edges { node { createdAt action after } } }
      }`,
    );
    expect(r.errors).toBeUndefined();
    const data = r.data as {
      connections: { createdAt: string; certificates: { notAfter: string }[]; mappings: unknown[] }[];
      licenses: { edges: { node: { createdAt: string } }[] };
      provisioningEvents: { edges: { node: { createdAt: string; outcome: string; changes: unknown[] } }[] };
      adminAuditEvents: { edges: { node: { createdAt: string } }[] };
    };
    expect(data.connections[0]).toMatchObject({ createdAt: iso, certificates: [{ notAfter: iso }] });
    expect(data.connections[0]?.mappings.length).toBe(5);
    expect(data.licenses.edges[0]?.node.createdAt).toEqual(iso);
    expect(data.provisioningEvents.edges[0]?.node).toMatchObject({ createdAt: iso, outcome: 'CREATED' });
    expect(data.provisioningEvents.edges[0]?.node.changes.length).toBeGreaterThan(0);
    expect(data.adminAuditEvents.edges[0]?.node.createdAt).toEqual(iso);
  });

  it('the preview on recent sign-ins', async () => {
    const [c] = await t.sql<{ id: string }>('select id from idp_connection');
    const connectionId = Buffer.from(`IdpConnection:${c?.id}`).toString('base64');
    const r = await gql(
      t.app,
      `query($input: PreviewMappingsInput!) { previewMappings(input: $input) { ... on MappingPreview { nameId userExists samples { nameId } } } }`,
      { input: { connectionId, recentSignIns: 5 } },
    );
    expect(r).toEqual({
      data: {
        previewMappings: {
          nameId: 'ada@contoso.example',
          userExists: true,
          samples: [{ nameId: 'ada@contoso.example' }],
        },
      },
    });
  });
});
