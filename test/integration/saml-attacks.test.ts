import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptAssertion } from '../../scripts/demo-idp/index.js';
import { ATTACKS, type AttackContext, PERSISTENT } from '../fixtures/saml/attacks.js';
import { NS, one, parse } from '../fixtures/saml/dom.js';
import { TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit } from '../helpers/refusal.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, PUBLIC_URL, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * Every attack posted to the real ACS, each refused with its own code and nothing written but the
 * audit event. The controls first: the same IdPs' honest responses are accepted, so each refusal
 * is the attack's doing.
 */
let t: TestApp;
let ctx: AttackContext;

beforeAll(async () => {
  t = await createTestApp();
  const [idp, other, spOnly, persistent] = await Promise.all([
    TestIdp.create(),
    TestIdp.create(),
    TestIdp.create(),
    TestIdp.create(),
  ]);
  const attacker = await TestIdp.create(idp.entityId.split('/')[3]);
  await createConnection(t.app, idp);
  await createConnection(t.app, other);
  await createConnection(t.app, spOnly, { idpInitiatedAllowed: false });
  await createConnection(t.app, persistent, { nameIdFormat: PERSISTENT });
  const metadata = parse(await (await t.app.fetch(new Request(`${PUBLIC_URL}/saml/metadata`))).text());
  const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
  const encryption = Array.from(metadata.getElementsByTagNameNS(md, 'KeyDescriptor')).find(
    (k) => k.getAttribute('use') === 'encryption',
  );
  const certBody = encryption ? one(encryption, NS.ds, 'X509Certificate').textContent : null;
  if (!certBody) throw new Error('SP metadata publishes no encryption certificate');
  ctx = {
    idp,
    attacker,
    other,
    spOnly,
    persistent,
    spEncryptionCertPem: `-----BEGIN CERTIFICATE-----\n${certBody}\n-----END CERTIFICATE-----\n`,
    attackerCertPem: attacker.key.certPem,
  };
});
afterAll(() => t.close());

const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

describe('controls: honest responses of the same IdPs are accepted', () => {
  it('signed assertion, each trusted connection', async () => {
    for (const idp of [ctx.idp, ctx.other]) {
      const res = await postAcs(
        t.app,
        b64(idp.signedXml(`control-${idp === ctx.idp ? 1 : 2}@contoso.example`)),
      );
      expect(res.body).toMatchObject({ created: true });
    }
  });

  it('persistent NameID where persistent is expected', async () => {
    const res = await postAcs(
      t.app,
      b64(ctx.persistent.signedXml('8d1b7a3e-persistent', {}, { nameIdFormat: PERSISTENT })),
    );
    expect(res.body).toMatchObject({ created: true, user: { username: '8d1b7a3e-persistent' } });
  });

  it('an assertion encrypted for the SP certificate, signed inside by the IdP', async () => {
    const xml = await encryptAssertion(ctx.idp.signedXml('sealed@contoso.example'), {
      certPem: ctx.spEncryptionCertPem,
    });
    expect(xml).not.toContain('sealed@contoso.example');
    const res = await postAcs(t.app, b64(xml));
    expect(res.body).toMatchObject({ created: true, user: { username: 'sealed@contoso.example' } });
  });

  it('AES-CBC content encryption too (Entra and ADFS still use it)', async () => {
    const xml = await encryptAssertion(ctx.idp.signedXml('cbc@contoso.example'), {
      certPem: ctx.spEncryptionCertPem,
      contentAlgorithm: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
    });
    expect((await postAcs(t.app, b64(xml))).body).toMatchObject({ created: true });
  });
});

describe('attacks, each refused with its code and nothing written but the audit event', () => {
  ATTACKS.forEach((attack, i) => {
    it(`${attack.name} → ${attack.code}`, async () => {
      const nameId = `victim${i}@contoso.example`;
      const xml = await attack.build(ctx, nameId);
      await expectRefusedWritingOnlyAudit(t, b64(xml), attack.code);
      const users = await t.sql(`select 1 from app_user where username in ($1, $2)`, [
        nameId,
        `admin-${nameId}`,
      ]);
      expect(users).toEqual([]);
    });
  });
});

describe('comment and CDATA injection in the NameID: the value used is the full signed text', () => {
  // The IdP signs "admin@contoso.example.evil.example" (a name an attacker could register). A comment
  // or CDATA split keeps the signature valid (canonicalization drops comments, unwraps CDATA), and a
  // reader that takes the first text node would see "admin@contoso.example".
  const signed = 'admin@contoso.example.evil.example';
  const splits = {
    comment: 'admin@contoso.example<!---->.evil.example',
    CDATA: '<![CDATA[admin@contoso.example]]>.evil.example',
  };

  beforeAll(async () => {
    const res = await postAcs(t.app, b64(ctx.idp.signedXml('admin@contoso.example')));
    expect(res.body).toMatchObject({ created: true });
  });

  for (const [kind, split] of Object.entries(splits)) {
    it(`${kind}: signs in the full name, never the existing admin`, async () => {
      const xml = ctx.idp.signedXml(signed).replace(`>${signed}</NameID>`, `>${split}</NameID>`);
      expect(xml).toContain(split);
      const [admin] = await t.sql<{ last_login_at: Date }>(
        `select last_login_at from app_user where username = 'admin@contoso.example'`,
      );
      const res = await postAcs(t.app, b64(xml));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ user: { username: signed } });
      const [after] = await t.sql<{ last_login_at: Date }>(
        `select last_login_at from app_user where username = 'admin@contoso.example'`,
      );
      expect(after?.last_login_at).toEqual(admin?.last_login_at);
    });
  }
});

describe('replay', () => {
  it('the same signed response twice: the second is refused', async () => {
    const response = b64(ctx.idp.signedXml('twice@contoso.example'));
    expect((await postAcs(t.app, response)).status).toBe(200);
    await expectRefusedWritingOnlyAudit(t, response, 'SAML_REPLAY');
  });
});
