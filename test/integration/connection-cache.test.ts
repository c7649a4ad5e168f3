import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, dbId, gql, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * The ACS keeps each connection and its mappings in memory. These hold it to never provisioning
 * with a configuration that changed since, whichever process (or plain SQL) changed it.
 */
let t: TestApp;
let peer: App;
let idp: TestIdp;
let connectionId: string;
const configReads: string[] = [];

beforeAll(async () => {
  t = await createTestApp({}, (sql) => {
    if (/from "idp_connection"|from "attribute_mapping"/.test(sql)) configReads.push(sql);
  });
  peer = await t.spawnPeer();
  idp = await TestIdp.create();
  connectionId = await createConnection(peer, idp);
  await addMapping(peer, connectionId, EntraClaims.givenName, 'givenName');
});
afterAll(() => t.close());

const signIn = (app: App, nameId: string) =>
  postAcs(app, idp.response(nameId, entraClaims('Grace', 'Hopper', nameId)));

const contactOf = async (nameId: string) =>
  (
    await t.sql<{ given_name: string | null; surname: string | null }>(
      `select c.given_name, c.surname from contact c join app_user u on u.id = c.user_id where u.username = $1`,
      [nameId],
    )
  )[0];

const versionOf = async (): Promise<number> =>
  (
    await t.sql<{ config_version: number }>(`select config_version from idp_connection where id = $1`, [
      dbId(connectionId),
    ])
  )[0]!.config_version;

const updateConnection = (input: Record<string, unknown>) =>
  gql(
    peer,
    `mutation($input: UpdateConnectionInput!) {
      updateConnection(input: $input) { __typename ... on InputError { code message } }
    }`,
    { input: { id: connectionId, ...input } },
  );

describe('the connection cache of the ACS', () => {
  it('reads the configuration once, not at every sign-in', async () => {
    expect((await signIn(t.app, 'first@contoso.example')).status).toBe(200);
    configReads.length = 0;
    expect((await signIn(t.app, 'second@contoso.example')).status).toBe(200);
    expect((await signIn(t.app, 'first@contoso.example')).status).toBe(200);
    expect(configReads).toEqual([]);
  });

  it('a mapping added through another process applies at the next sign-in here, read once again', async () => {
    await addMapping(peer, connectionId, EntraClaims.surname, 'surname');
    configReads.length = 0;
    const r = await signIn(t.app, 'after-mapping@contoso.example');
    expect(r.status).toBe(200);
    expect(await contactOf('after-mapping@contoso.example')).toEqual({
      given_name: 'Grace',
      surname: 'Hopper',
    });
    // The stale attempt wrote nothing: one event, one replay record for that user.
    const events = await t.sql(`select outcome from provisioning_event where name_id = $1`, [
      'after-mapping@contoso.example',
    ]);
    expect(events).toEqual([{ outcome: 'CREATED' }]);
    expect(configReads.length).toBeGreaterThan(0);
  });

  it('a connection disabled through another process refuses here at once, and enabled again signs in', async () => {
    expect((await signIn(t.app, 'warm@contoso.example')).status).toBe(200);
    expect((await updateConnection({ enabled: false })).errors).toBeUndefined();
    const refused = await signIn(t.app, 'while-disabled@contoso.example');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'CONNECTION_DISABLED' } });
    expect(await t.sql(`select 1 from app_user where username = 'while-disabled@contoso.example'`)).toEqual(
      [],
    );
    expect((await updateConnection({ enabled: true })).errors).toBeUndefined();
    expect((await signIn(t.app, 'while-disabled@contoso.example')).status).toBe(200);
  });

  it('JIT turned off elsewhere: the cached "on" never creates a user', async () => {
    expect((await signIn(t.app, 'warm@contoso.example')).status).toBe(200);
    expect((await updateConnection({ jitEnabled: false })).errors).toBeUndefined();
    const refused = await signIn(t.app, 'no-jit@contoso.example');
    expect(refused.body).toMatchObject({ error: { code: 'JIT_DISABLED' } });
    expect(await t.sql(`select 1 from app_user where username = 'no-jit@contoso.example'`)).toEqual([]);
    expect((await updateConnection({ jitEnabled: true })).errors).toBeUndefined();
  });

  it('the database bumps the version for every change, made through the API or in plain SQL', async () => {
    const id = dbId(connectionId);
    let v = await versionOf();
    const bumped = async () => {
      const now = await versionOf();
      expect(now).toBeGreaterThan(v);
      v = now;
    };
    await t.sql(`update idp_connection set clock_skew_seconds = clock_skew_seconds where id = $1`, [id]);
    await bumped();
    await t.sql(`update attribute_mapping set required = not required where connection_id = $1`, [id]);
    await bumped();
    const [m] = await t.sql<{ id: string }>(
      `insert into attribute_mapping (connection_id, position, attribute_name, "column")
       values ($1, 99, 'dept', 'department') returning id`,
      [id],
    );
    await bumped();
    await t.sql(`delete from attribute_mapping where id = $1`, [m!.id]);
    await bumped();
    await updateConnection({ clockSkewSeconds: 61 });
    await bumped();
  });
});
