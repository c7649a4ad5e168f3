import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStrictXml, textOf } from '../src/saml/xml.js';
import { edit, NS, one, setNameId, withoutSignature } from './fixtures/saml/dom.js';
import { XSW, XSW_MOVES } from './fixtures/saml/xsw.js';
import { TestIdp } from './helpers/idp.js';
import { PUBLIC_URL } from './helpers/test-app.js';

/**
 * The validator reads every value from `profile.getAssertionXml()`. This holds node-saml to what
 * that relies on, with jitprov's own guard out of the way: under each wrapping shape it either
 * refuses, or what it returns is the assertion that was signed, never the evil copy.
 */
const SIGNED_NAME = 'alice@contoso.example';
const EVIL_NAME = 'admin@contoso.example';

let idp: TestIdp;
beforeAll(async () => {
  idp = await TestIdp.create();
});

function nodeSaml(wantAuthnResponseSigned: boolean): SAML {
  return new SAML({
    idpCert: idp.key.certPem,
    issuer: `${PUBLIC_URL}/saml/metadata`,
    audience: `${PUBLIC_URL}/saml/metadata`,
    callbackUrl: `${PUBLIC_URL}/saml/acs`,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned,
    acceptedClockSkewMs: 60_000,
    validateInResponseTo: ValidateInResponseTo.never,
  });
}

describe('node-saml under signature wrapping, without our guard', () => {
  for (const [name, shape] of Object.entries(XSW)) {
    const modes = XSW_MOVES[name] === 'response' ? [] : (['assertion'] as const);
    for (const sign of [...modes, 'response-and-assertion'] as const) {
      it(`${name} (${sign} signed): refused, or the verified assertion is the signed one`, async () => {
        const attack = shape(idp.signedXml(SIGNED_NAME, {}, { sign }), EVIL_NAME);
        expect(attack).toContain(EVIL_NAME);
        let verified: string | null = null;
        try {
          const { profile } = await nodeSaml(sign !== 'assertion').validatePostResponseAsync({
            SAMLResponse: Buffer.from(attack).toString('base64'),
          });
          verified = profile?.getAssertionXml?.() ?? null;
        } catch {
          return;
        }
        const assertion = parseStrictXml(verified ?? '')?.documentElement;
        const nameId = assertion?.getElementsByTagNameNS(
          'urn:oasis:names:tc:SAML:2.0:assertion',
          'NameID',
        )[0];
        expect(nameId && textOf(nameId)).toBe(SIGNED_NAME);
      });
    }
  }
});

describe('node-saml returns the verified bytes even where it accepts a document with an evil copy', () => {
  const nameIdOf = (xml: string | null) => {
    const assertion = parseStrictXml(xml ?? '')?.documentElement;
    const el = assertion?.getElementsByTagNameNS(NS.saml, 'NameID')[0];
    return el ? textOf(el) : null;
  };

  it('an unsigned copy with a fresh ID in samlp:Extensions (which our guard refuses)', async () => {
    const attack = edit(idp.signedXml(SIGNED_NAME), (doc) => {
      const copy = withoutSignature(one(doc, NS.saml, 'Assertion'));
      copy.setAttribute('ID', '_fresh');
      setNameId(copy, EVIL_NAME);
      const extensions = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      extensions.appendChild(copy);
      doc.documentElement?.insertBefore(extensions, one(doc, NS.samlp, 'Status'));
    });
    const { profile } = await nodeSaml(false).validatePostResponseAsync({
      SAMLResponse: Buffer.from(attack).toString('base64'),
    });
    expect(nameIdOf(profile?.getAssertionXml?.() ?? null)).toBe(SIGNED_NAME);
  });

  it('a comment splitting the signed NameID: the whole signed text comes back', async () => {
    const signed = 'admin@contoso.example.evil.example';
    const attack = idp
      .signedXml(signed)
      .replace(`>${signed}<`, '>admin@contoso.example<!---->.evil.example<');
    const { profile } = await nodeSaml(false).validatePostResponseAsync({
      SAMLResponse: Buffer.from(attack).toString('base64'),
    });
    expect(nameIdOf(profile?.getAssertionXml?.() ?? null)).toBe(signed);
  });
});
