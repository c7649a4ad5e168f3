import { createPublicKey, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { NS, one, parse } from '../fixtures/saml/dom.js';
import { TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit } from '../helpers/refusal.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';

let t: TestApp;
/** SP-initiated only, signs its AuthnRequests, expects email NameIDs. */
let a: TestIdp;
let aId: string;
/** Defaults: IdP-initiated allowed, unsigned requests. */
let b: TestIdp;
let bId: string;

beforeAll(async () => {
  t = await createTestApp();
  [a, b] = await Promise.all([TestIdp.create(), TestIdp.create()]);
  aId = await createConnection(t.app, a, {
    idpInitiatedAllowed: false,
    signAuthnRequests: true,
    nameIdFormat: EMAIL,
  });
  bId = await createConnection(t.app, b);
});
afterAll(() => t.close());

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':')[1]!;
const b64 = (xml: string) => Buffer.from(xml).toString('base64');

async function login(connection: string, relayState?: string, app: Pick<App, 'fetch'> = t.app) {
  const url = new URL(`${PUBLIC_URL}/saml/login`);
  url.searchParams.set('connection', connection);
  if (relayState !== undefined) url.searchParams.set('relayState', relayState);
  return app.fetch(new Request(url, { headers: { accept: 'application/json' } }));
}

/** The AuthnRequest a redirect carries, decoded. */
function authnRequestOf(location: string) {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString(
    'utf8',
  );
  const request = parse(xml).documentElement as Element;
  return {
    url,
    xml,
    id: request.getAttribute('ID') ?? '',
    destination: request.getAttribute('Destination'),
    acs: request.getAttribute('AssertionConsumerServiceURL'),
    issuer: one(request, 'urn:oasis:names:tc:SAML:2.0:assertion', 'Issuer').textContent,
    nameIdFormat: one(request, NS.samlp, 'NameIDPolicy').getAttribute('Format'),
  };
}

async function startLogin(connection: string, relayState?: string) {
  const res = await login(connection, relayState);
  expect(res.status).toBe(302);
  return authnRequestOf(res.headers.get('location') ?? '');
}

describe('GET /saml/login', () => {
  it('redirects to the IdP SSO URL with a deflated AuthnRequest and records its id in PostgreSQL', async () => {
    const res = await login(aId, '/after');
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const req = authnRequestOf(res.headers.get('location') ?? '');
    const sso = `https://login.microsoftonline.com/${a.entityId.split('/')[3]}/saml2`;
    expect(`${req.url.origin}${req.url.pathname}`).toBe(sso);
    expect(req).toMatchObject({
      destination: sso,
      acs: `${PUBLIC_URL}/saml/acs`,
      issuer: `${PUBLIC_URL}/saml/metadata`,
      nameIdFormat: EMAIL,
    });
    expect(req.url.searchParams.get('RelayState')).toBe('/after');
    const [row] = await t.sql<{ connection_id: string; ttl: number }>(
      `select connection_id, extract(epoch from expires_at - now())::int as ttl from authn_request where id = $1`,
      [req.id],
    );
    expect(row?.connection_id).toBe(uuidOf(aId));
    expect(row?.ttl).toBeGreaterThan(1700);
    expect(row?.ttl).toBeLessThanOrEqual(1800);
  });

  it('takes the connection uuid as well as its global id', async () => {
    expect((await login(uuidOf(bId))).status).toBe(302);
  });

  it('signs the request over the exact query string when the connection asks, with the key in SP metadata', async () => {
    const metadata = parse(await (await t.app.fetch(new Request(`${PUBLIC_URL}/saml/metadata`))).text());
    const signing = Array.from(metadata.getElementsByTagNameNS(MD, 'KeyDescriptor')).find(
      (k) => k.getAttribute('use') === 'signing',
    );
    const cert = `-----BEGIN CERTIFICATE-----\n${one(signing!, NS.ds, 'X509Certificate').textContent}\n-----END CERTIFICATE-----`;
    // RelayState characters that querystring and URLSearchParams encode differently.
    const { url } = await startLogin(aId, "/it's(fine)!~*");
    const raw = url.search.slice(1);
    const signed = raw.slice(0, raw.indexOf('&Signature='));
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    const signature = Buffer.from(url.searchParams.get('Signature') ?? '', 'base64');
    expect(verify('sha256', Buffer.from(signed), createPublicKey(cert), signature)).toBe(true);
    expect(verify('sha256', Buffer.from(`${signed}x`), createPublicKey(cert), signature)).toBe(false);

    const unsigned = await startLogin(bId);
    expect(unsigned.url.searchParams.has('Signature')).toBe(false);
  });

  it.each([
    ['an unknown connection', () => '00000000-0000-4000-8000-000000000000', undefined, 404, 'NOT_FOUND'],
    ['no connection at all', () => '', undefined, 404, 'NOT_FOUND'],
    ['an open-redirect RelayState', () => bId, 'https://evil.example/', 400, 'SAML_RELAY_STATE_FORBIDDEN'],
  ])('refuses %s', async (_name, connection, relayState, status, code) => {
    const before = await t.sql(`select count(*)::int as n from authn_request`);
    const res = await login(connection(), relayState);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error: { code } });
    expect(await t.sql(`select count(*)::int as n from authn_request`)).toEqual(before);
  });

  it('refuses a disabled connection, and one without an HTTP-Redirect SSO URL', async () => {
    const idp = await TestIdp.create();
    const id = await createConnection(t.app, idp);
    await t.sql(`update idp_connection set sso_redirect_url = null where id = $1`, [uuidOf(id)]);
    expect(await (await login(id)).json()).toMatchObject({ error: { code: 'SAML_LOGIN_UNAVAILABLE' } });
    await t.sql(`update idp_connection set enabled = false where id = $1`, [uuidOf(id)]);
    expect((await login(id)).status).toBe(403);
  });
});

describe('the answer to an AuthnRequest', () => {
  it('signs in once; the same response, or another answer to the same request, is then refused', async () => {
    const req = await startLogin(aId);
    const answer = a.response('sp1@contoso.example', {}, { inResponseTo: req.id });
    const ok = await postAcs(t.app, answer);
    expect(ok.body).toMatchObject({ created: true, user: { username: 'sp1@contoso.example' } });
    // Answered: marked with the answering assertion (kept until it expires, then swept).
    const [marked] = await t.sql<{ consumed_by: string | null }>(
      `select consumed_by from authn_request where id = $1`,
      [req.id],
    );
    expect(marked?.consumed_by).toBeTruthy();
    await expectRefusedWritingOnlyAudit(t, answer, 'SAML_IN_RESPONSE_TO_UNKNOWN');
    await expectRefusedWritingOnlyAudit(
      t,
      a.response('sp1@contoso.example', {}, { inResponseTo: req.id }),
      'SAML_IN_RESPONSE_TO_UNKNOWN',
    );
  });

  it('is accepted by another server process than the one that sent the request', async () => {
    const peer = await t.spawnPeer();
    const res = await login(aId, undefined, peer);
    const req = authnRequestOf(res.headers.get('location') ?? '');
    const ok = await postAcs(t.app, a.response('sp2@contoso.example', {}, { inResponseTo: req.id }));
    expect(ok.body).toMatchObject({ created: true });
  });

  it("answered by another connection's IdP: refused, and the request stays open for its own IdP", async () => {
    const req = await startLogin(aId);
    await expectRefusedWritingOnlyAudit(
      t,
      b.response('sp3@contoso.example', {}, { inResponseTo: req.id }),
      'SAML_IN_RESPONSE_TO_UNKNOWN',
    );
    const ok = await postAcs(t.app, a.response('sp3@contoso.example', {}, { inResponseTo: req.id }));
    expect(ok.body).toMatchObject({ created: true });
  });

  it('expired: refused', async () => {
    const req = await startLogin(aId);
    await t.sql(`update authn_request set expires_at = now() - interval '1 second' where id = $1`, [req.id]);
    await expectRefusedWritingOnlyAudit(
      t,
      a.response('sp4@contoso.example', {}, { inResponseTo: req.id }),
      'SAML_IN_RESPONSE_TO_UNKNOWN',
    );
  });

  it('two different answers racing for one request, on two processes: exactly one signs in', async () => {
    const peer = await t.spawnPeer();
    const req = await startLogin(aId);
    const results = await Promise.all([
      postAcs(t.app, a.response('race1@contoso.example', {}, { inResponseTo: req.id })),
      postAcs(peer, a.response('race2@contoso.example', {}, { inResponseTo: req.id })),
    ]);
    const codes = results.map((r) => (r.body.error as { code?: string } | undefined)?.code ?? 'OK').sort();
    expect(codes).toEqual(['OK', 'SAML_IN_RESPONSE_TO_UNKNOWN']);
  });

  it('unsolicited: accepted where IdP-initiated sign-in is allowed, refused where not', async () => {
    expect((await postAcs(t.app, b.response('idp1@contoso.example'))).body).toMatchObject({ created: true });
    await expectRefusedWritingOnlyAudit(t, a.response('idp2@contoso.example'), 'SAML_UNSOLICITED_RESPONSE');
  });

  it('a transient NameID is accepted only where the connection expects exactly that', async () => {
    const transient = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
    const idp = await TestIdp.create();
    await createConnection(t.app, idp, { nameIdFormat: transient });
    const res = await postAcs(t.app, b64(idp.signedXml('_a1b2c3', {}, { nameIdFormat: transient })));
    expect(res.body).toMatchObject({ created: true });
  });
});
