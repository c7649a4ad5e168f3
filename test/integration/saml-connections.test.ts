import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdpKeyPair } from '../../scripts/demo-idp/index.js';
import { loadConfig } from '../../src/config/config.js';
import { NS, one, parse } from '../fixtures/saml/dom.js';
import { TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit } from '../helpers/refusal.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, gql, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function spMetadata(app: TestApp) {
  const res = await app.app.fetch(new Request(`${PUBLIC_URL}/saml/metadata`));
  expect(res.status).toBe(200);
  const doc = parse(await res.text());
  const cert = (use: string) => {
    const kd = Array.from(doc.getElementsByTagNameNS(MD, 'KeyDescriptor')).find(
      (k) => k.getAttribute('use') === use,
    );
    const body = kd ? one(kd, NS.ds, 'X509Certificate').textContent : null;
    return body ? new X509Certificate(Buffer.from(body, 'base64')) : null;
  };
  return { doc, signing: cert('signing'), encryption: cert('encryption') };
}

const UPDATE = `mutation($input: UpdateConnectionInput!) { updateConnection(input: $input) {
  __typename
  ... on IdpConnection { id idpInitiatedAllowed nameIdFormat signAuthnRequests allowSha1 clockSkewSeconds loginUrl
    certificates { fingerprintSha256 notAfter } }
  ... on InputError { code message path } } }`;

async function update(input: Record<string, unknown>, token?: string | null) {
  const r = await gql<{ updateConnection: Record<string, unknown> | null }>(t.app, UPDATE, { input }, token);
  return r;
}

describe('SP metadata', () => {
  it('publishes the entity id, the HTTP-POST ACS, and a signing and an encryption certificate', async () => {
    const { doc, signing, encryption } = await spMetadata(t);
    const root = doc.documentElement as Element;
    expect(root.getAttribute('entityID')).toBe(`${PUBLIC_URL}/saml/metadata`);
    const acs = one(root, MD, 'AssertionConsumerService');
    expect(acs.getAttribute('Binding')).toBe('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
    expect(acs.getAttribute('Location')).toBe(`${PUBLIC_URL}/saml/acs`);
    expect(one(root, MD, 'SPSSODescriptor').getAttribute('WantAssertionsSigned')).toBe('true');
    expect(signing).not.toBeNull();
    expect(encryption).not.toBeNull();
    expect(doc.getElementsByTagNameNS(MD, 'EncryptionMethod').length).toBeGreaterThan(0);
  });

  it('generates the SP keys once into DATA_DIR (0600) and reuses them after a restart', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'jitprov-sp-'));
    try {
      const first = await createTestApp({ DATA_DIR: dataDir });
      const a = await spMetadata(first);
      await first.close();
      expect(statSync(path.join(dataDir, 'saml-sp-keys.json')).mode & 0o777).toBe(0o600);
      const second = await createTestApp({ DATA_DIR: dataDir });
      const b = await spMetadata(second);
      await second.close();
      expect(b.signing?.fingerprint256).toBe(a.signing?.fingerprint256);
      expect(b.encryption?.fingerprint256).toBe(a.encryption?.fingerprint256);
      expect(a.signing?.fingerprint256).not.toBe(a.encryption?.fingerprint256);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('publishes the keys given in the environment instead', async () => {
    const [s, d] = await Promise.all([generateIdpKeyPair(), generateIdpKeyPair()]);
    const app = await createTestApp({
      SAML_SP_SIGNING_KEY: s.privateKeyPem.replace(/\n/g, '\\n'),
      SAML_SP_SIGNING_CERT: s.certPem,
      SAML_SP_DECRYPTION_KEY: d.privateKeyPem,
      SAML_SP_DECRYPTION_CERT: d.certPem,
    });
    try {
      const m = await spMetadata(app);
      expect(m.signing?.fingerprint256).toBe(new X509Certificate(s.certPem).fingerprint256);
      expect(m.encryption?.fingerprint256).toBe(new X509Certificate(d.certPem).fingerprint256);
    } finally {
      await app.close();
    }
  });

  it('refuses, at start, half a key pair, a certificate of another key, or a bad redirect origin', async () => {
    const [s, other] = await Promise.all([generateIdpKeyPair(), generateIdpKeyPair()]);
    const base = { NODE_ENV: 'test', DATABASE_URL: 'postgres://x@127.0.0.1/x' };
    expect(() => loadConfig({ ...base, SAML_SP_SIGNING_KEY: s.privateKeyPem })).toThrow(
      /set both or neither/,
    );
    expect(() =>
      loadConfig({ ...base, SAML_SP_SIGNING_KEY: s.privateKeyPem, SAML_SP_SIGNING_CERT: other.certPem }),
    ).toThrow(/does not belong/);
    expect(() => loadConfig({ ...base, ALLOWED_REDIRECT_ORIGINS: 'javascript:alert(1)' })).toThrow(
      /ALLOWED_REDIRECT_ORIGINS/,
    );
  });
});

describe('several connections at once', () => {
  it('routes each response by its Issuer and verifies it with that connection keys only', async () => {
    const [a, b] = await Promise.all([TestIdp.create(), TestIdp.create()]);
    await createConnection(t.app, a);
    await createConnection(t.app, b);
    expect((await postAcs(t.app, a.response('multi-a@contoso.example'))).body).toMatchObject({
      created: true,
    });
    expect((await postAcs(t.app, b.response('multi-b@contoso.example'))).body).toMatchObject({
      created: true,
    });
    // IdP A's response, signed with B's (trusted, but not for A) key.
    const forged = b.sign(a.unsignedXml('multi-x@contoso.example'));
    await expectRefusedWritingOnlyAudit(t, Buffer.from(forged).toString('base64'), 'SAML_SIGNATURE_INVALID');
  });
});

describe('updateConnection', () => {
  it('changes options: IdP-initiated off refuses unsolicited responses, on again accepts them', async () => {
    const idp = await TestIdp.create();
    const id = await createConnection(t.app, idp);
    const r = await update({ id, idpInitiatedAllowed: false, clockSkewSeconds: 30, signAuthnRequests: true });
    expect(r.data?.updateConnection).toMatchObject({
      __typename: 'IdpConnection',
      idpInitiatedAllowed: false,
      clockSkewSeconds: 30,
      signAuthnRequests: true,
      allowSha1: false,
      loginUrl: `${PUBLIC_URL}/saml/login?connection=${Buffer.from(id, 'base64').toString().split(':')[1]}`,
    });
    await expectRefusedWritingOnlyAudit(t, idp.response('upd1@contoso.example'), 'SAML_UNSOLICITED_RESPONSE');
    await update({ id, idpInitiatedAllowed: true });
    expect((await postAcs(t.app, idp.response('upd1@contoso.example'))).body).toMatchObject({
      created: true,
    });
  });

  it('sets and clears the expected NameID format', async () => {
    const idp = await TestIdp.create();
    const id = await createConnection(t.app, idp);
    const persistent = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
    expect((await update({ id, nameIdFormat: persistent })).data?.updateConnection).toMatchObject({
      nameIdFormat: persistent,
    });
    await expectRefusedWritingOnlyAudit(
      t,
      idp.response('fmt@contoso.example'),
      'SAML_NAMEID_FORMAT_MISMATCH',
    );
    expect((await update({ id, nameIdFormat: null })).data?.updateConnection).toMatchObject({
      nameIdFormat: null,
    });
    expect((await postAcs(t.app, idp.response('fmt@contoso.example'))).body).toMatchObject({ created: true });
    expect((await update({ id, nameIdFormat: 'not a uri' })).data?.updateConnection).toMatchObject({
      __typename: 'InputError',
      code: 'VALIDATION_FAILED',
      path: ['input', 'nameIdFormat'],
    });
  });

  it('rolls certificates over from new metadata without downtime, in every server process', async () => {
    const old = await TestIdp.create();
    const rolled = await TestIdp.create(old.entityId.split('/')[3]);
    const id = await createConnection(t.app, old);
    const peer = await t.spawnPeer();
    // The peer has verified with the old certificate (and cached it) before the rollover.
    expect((await postAcs(peer, old.response('roll0@contoso.example'))).body).toMatchObject({
      created: true,
    });

    // 1. The IdP publishes the new certificate beside the old one: both verify.
    const both = await update({ id, metadataXml: rolled.metadata([old.key.certPem]) });
    expect(both.data?.updateConnection?.certificates).toHaveLength(2);
    expect((await postAcs(t.app, old.response('roll1@contoso.example'))).body).toMatchObject({
      created: true,
    });
    expect((await postAcs(peer, rolled.response('roll2@contoso.example'))).body).toMatchObject({
      created: true,
    });

    // 2. The IdP drops the old certificate: only the new one verifies, on every process.
    await update({ id, metadataXml: rolled.metadata() });
    await expectRefusedWritingOnlyAudit(t, old.response('roll3@contoso.example'), 'SAML_SIGNATURE_INVALID');
    const onPeer = await postAcs(peer, old.response('roll4@contoso.example'));
    expect(onPeer.body).toMatchObject({ error: { code: 'SAML_SIGNATURE_INVALID' } });
    expect((await postAcs(peer, rolled.response('roll5@contoso.example'))).body).toMatchObject({
      created: true,
    });
  });

  it("refuses another IdP's metadata, an unknown id, and callers who are not admins", async () => {
    const idp = await TestIdp.create();
    const stranger = await TestIdp.create();
    const id = await createConnection(t.app, idp);
    expect((await update({ id, metadataXml: stranger.metadata() })).data?.updateConnection).toMatchObject({
      __typename: 'InputError',
      code: 'METADATA_INVALID',
      path: ['input', 'metadataXml'],
    });
    const unknown = Buffer.from('IdpConnection:00000000-0000-4000-8000-000000000000').toString('base64');
    expect((await update({ id: unknown, jitEnabled: false })).data?.updateConnection).toMatchObject({
      code: 'NOT_FOUND',
    });
    const anonymous = await update({ id, jitEnabled: false }, null);
    expect(anonymous.data?.updateConnection ?? null).toBeNull();
    expect(anonymous.errors?.length).toBeGreaterThan(0);
  });
});
