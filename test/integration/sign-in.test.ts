import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit, signInCounts } from '../helpers/refusal.js';
import { addEntraMappings, addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

const COUNTRY_CLAIM = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/country';

let t: TestApp;
let idp: TestIdp;

beforeAll(async () => {
  t = await createTestApp();
  idp = await TestIdp.create();
  const connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
  await createLicense(t.app, 'CRM', null);
  await createLicense(t.app, 'Analytics', 10);
  await createLicense(t.app, 'Full', 0);
});
afterAll(() => t.close());

describe('first sign-in over HTTP-POST', () => {
  it('creates the user, a mapped contact and every available license, and returns a working session', async () => {
    const res = await postAcs(
      t.app,
      idp.response(
        'zoe@contoso.example',
        entraClaims('Zoë', 'Ångström', 'zoe@contoso.example', {
          [EntraClaims.groups]: ['sales', 'emea', 'admins'],
        }),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      created: true,
      user: { username: 'zoe@contoso.example' },
      licensesGranted: ['Analytics', 'CRM'],
    });
    const me = await gql<{ me: Record<string, unknown> }>(
      t.app,
      `{ me { username status contact { givenName surname fullName email groups } licenses { name used seats } } }`,
      {},
      res.body.sessionToken as string,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({
      username: 'zoe@contoso.example',
      status: 'ACTIVE',
      contact: {
        givenName: 'Zoë',
        surname: 'Ångström',
        fullName: 'Zoë Ångström',
        email: 'zoe@contoso.example',
        groups: ['sales', 'emea', 'admins'],
      },
      licenses: [
        { name: 'Analytics', used: 1, seats: 10 },
        { name: 'CRM', used: 1, seats: null },
      ],
    });
    const [event] = await t.sql<{ outcome: string; changes: unknown[] }>(
      `select outcome, changes from provisioning_event where name_id = 'zoe@contoso.example'`,
    );
    expect(event?.outcome).toBe('CREATED');
    expect(event?.changes).toContainEqual(
      expect.objectContaining({ column: 'surname', old: null, new: 'Ångström' }),
    );
  });

  it('signs an existing user in without a second user, contact or grant', async () => {
    const before = await signInCounts(t);
    const res = await postAcs(
      t.app,
      idp.response('zoe@contoso.example', entraClaims('Z', 'Å', 'zoe@contoso.example')),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: false, licensesGranted: [] });
    const after = await signInCounts(t);
    expect(after).toEqual({
      ...before,
      consumed: before.consumed! + 1,
      sessions: before.sessions! + 1,
      events: before.events! + 1,
    });
    // refreshOnLogin is off: the contact keeps its first values.
    const [contact] = await t.sql(`select given_name from contact c join app_user u on u.id = c.user_id
      where u.username = 'zoe@contoso.example'`);
    expect(contact).toEqual({ given_name: 'Zoë' });
  });
});

describe('the samlAcs mutation', () => {
  it('provisions through the same code as the ACS route', async () => {
    const r = await gql<{ samlAcs: Record<string, unknown> }>(
      t.app,
      `mutation($input: SamlAcsInput!) { samlAcs(input: $input) {
        __typename
        ... on SignInResult { created sessionToken user { username } contact { email } licensesGranted { name } }
        ... on SignInError { code message }
      } }`,
      {
        input: {
          samlResponse: idp.response(
            'kai@contoso.example',
            entraClaims('Kai', 'Berg', 'kai@contoso.example'),
          ),
        },
      },
      null,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.samlAcs).toMatchObject({
      __typename: 'SignInResult',
      created: true,
      user: { username: 'kai@contoso.example' },
      contact: { email: 'kai@contoso.example' },
      licensesGranted: [{ name: 'Analytics' }, { name: 'CRM' }],
    });
  });

  it('returns refusals as a typed SignInError', async () => {
    const r = await gql<{ samlAcs: Record<string, unknown> }>(
      t.app,
      `mutation($input: SamlAcsInput!) { samlAcs(input: $input) {
        __typename ... on SignInError { code message }
      } }`,
      { input: { samlResponse: Buffer.from('<nope').toString('base64') } },
      null,
    );
    expect(r.data?.samlAcs).toMatchObject({ __typename: 'SignInError', code: 'SAML_RESPONSE_MALFORMED' });
  });
});

describe('refusals write nothing but their audit event', () => {
  it('refuses the same SAMLResponse posted twice as a replay', async () => {
    const response = idp.response('rio@contoso.example', entraClaims('Rio', 'Tan', 'rio@contoso.example'));
    expect((await postAcs(t.app, response)).status).toBe(200);
    await expectRefusedWritingOnlyAudit(t, response, 'SAML_REPLAY');
  });

  it('refuses a response signed with another key', async () => {
    const other = await TestIdp.create(idp.entityId.split('/')[3]);
    expect(other.entityId).toBe(idp.entityId);
    await expectRefusedWritingOnlyAudit(
      t,
      other.response('eve@contoso.example', entraClaims('Eve', 'X', 'eve@contoso.example')),
      'SAML_SIGNATURE_INVALID',
    );
  });

  it('refuses a response for another audience', async () => {
    await expectRefusedWritingOnlyAudit(
      t,
      idp.response('eve@contoso.example', entraClaims('Eve', 'X', 'eve@contoso.example'), {
        audience: 'https://other-sp.example/metadata',
      }),
      'SAML_AUDIENCE_MISMATCH',
    );
  });

  it('refuses an expired response', async () => {
    const past = new Date(Date.now() - 3 * 3600_000);
    await expectRefusedWritingOnlyAudit(
      t,
      idp.response('eve@contoso.example', entraClaims('Eve', 'X', 'eve@contoso.example'), {
        now: past,
        notBefore: new Date(past.getTime() - 300_000),
        notOnOrAfter: new Date(past.getTime() + 3600_000),
      }),
      'SAML_ASSERTION_EXPIRED',
    );
  });

  it('refuses a response from an unknown issuer', async () => {
    const stranger = await TestIdp.create();
    await expectRefusedWritingOnlyAudit(t, stranger.response('eve@contoso.example'), 'SAML_UNKNOWN_ISSUER');
  });

  it('refuses a response whose Recipient is not our ACS', async () => {
    await expectRefusedWritingOnlyAudit(
      t,
      idp.response('eve@contoso.example', entraClaims('Eve', 'X', 'eve@contoso.example'), {
        destination: 'https://attacker.example/acs',
      }),
      'SAML_DESTINATION_MISMATCH',
    );
  });

  it('refuses a sign-in without a required attribute', async () => {
    const body = await expectRefusedWritingOnlyAudit(
      t,
      idp.response('eve@contoso.example', { [EntraClaims.givenName]: 'Eve' }),
      'REQUIRED_ATTRIBUTE_MISSING',
    );
    expect(JSON.stringify(body)).toContain(EntraClaims.emailAddress);
  });
});

describe('a failure after the user insert rolls the whole sign-in back', () => {
  let countryMapping: string;
  beforeEach(async () => {
    const [c] = await t.sql<{ id: string }>(`select id from idp_connection`);
    const connectionGid = Buffer.from(`IdpConnection:${c!.id}`).toString('base64');
    const m = await addMapping(t.app, connectionGid, COUNTRY_CLAIM, 'country', false, {
      onFailure: 'REFUSE',
    });
    countryMapping = m.id as string;
    return async () => {
      await gql(t.app, `mutation($id: ID!) { removeAttributeMapping(id: $id) { __typename } }`, {
        id: countryMapping,
      });
    };
  });

  it('names the mapping and column of a value that does not fit, and leaves no trace', async () => {
    const body = await expectRefusedWritingOnlyAudit(
      t,
      idp.response(
        'nia@contoso.example',
        entraClaims('Nia', 'Smit', 'nia@contoso.example', { [COUNTRY_CLAIM]: 'Netherlands' }),
      ),
      'MAPPING_VALUE_INVALID',
    );
    const message = (body.error as { message: string }).message;
    expect(message).toContain('"country"');
    expect(message).toContain(COUNTRY_CLAIM);
  });

  it('rolls back user and contact when the license grant fails in the database', async () => {
    await t.sql(`create function fail_grant() returns trigger language plpgsql as $$
      begin raise exception 'injected fault'; end $$`);
    await t.sql(
      `create trigger fail_grant before insert on license_grant for each row execute function fail_grant()`,
    );
    try {
      const before = await signInCounts(t);
      const res = await postAcs(
        t.app,
        idp.response('omar@contoso.example', entraClaims('Omar', 'Q', 'omar@contoso.example')),
      );
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(await signInCounts(t)).toEqual({ ...before, events: before.events! + 1 });
    } finally {
      await t.sql('drop trigger fail_grant on license_grant');
      await t.sql('drop function fail_grant');
    }
  });
});

describe('a connection with JIT off', () => {
  it('refuses an unknown user and writes only the audit event', async () => {
    const closed = await TestIdp.create();
    const id = await createConnection(t.app, closed, { jitEnabled: false });
    await addEntraMappings(t.app, id);
    await expectRefusedWritingOnlyAudit(
      t,
      closed.response('new@fabrikam.example', entraClaims('New', 'User', 'new@fabrikam.example')),
      'JIT_DISABLED',
    );
  });
});

describe('a connection that also requires a signed Response', () => {
  it('refuses an assertion-only signature and accepts response-and-assertion', async () => {
    const strict = await TestIdp.create();
    const id = await createConnection(t.app, strict, { wantResponseSigned: true });
    await addEntraMappings(t.app, id);
    const claims = entraClaims('Sig', 'Both', 'sig@fabrikam.example');
    await expectRefusedWritingOnlyAudit(
      t,
      strict.response('sig@fabrikam.example', claims),
      'SAML_SIGNATURE_MISSING',
    );
    const ok = await postAcs(
      t.app,
      strict.response('sig@fabrikam.example', claims, { sign: 'response-and-assertion' }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body.created).toBe(true);
  });
});

describe('unexpected failures through GraphQL', () => {
  it('are masked: a generic message, code INTERNAL and a request id, no SQL or stack', async () => {
    await t.sql(`create function fail_contact() returns trigger language plpgsql as $$
      begin raise exception 'secret detail'; end $$`);
    await t.sql(
      `create trigger fail_contact before insert on contact for each row execute function fail_contact()`,
    );
    try {
      const r = await gql<{ samlAcs: unknown }>(
        t.app,
        `mutation($input: SamlAcsInput!) { samlAcs(input: $input) { __typename } }`,
        {
          input: {
            samlResponse: idp.response('mask@contoso.example', entraClaims('M', 'K', 'mask@contoso.example')),
          },
        },
        null,
      );
      expect(r.data?.samlAcs).toBeNull();
      expect(r.errors).toHaveLength(1);
      expect(r.errors?.[0]?.message).toBe('Unexpected error.');
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'INTERNAL', requestId: expect.any(String) });
      expect(JSON.stringify(r)).not.toMatch(/secret detail|insert into|at /);
    } finally {
      await t.sql('drop trigger fail_contact on contact');
      await t.sql('drop function fail_contact');
    }
  });
});
