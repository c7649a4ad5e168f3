import { createPublicKey, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/saml/verify-signature.js';
import { parseStrictXml, textOf } from '../../src/saml/xml.js';
import { edit, NS, one, setNameId, withoutSignature } from '../fixtures/saml/dom.js';
import { XSW, XSW_MOVES } from '../fixtures/saml/xsw.js';
import { TestIdp } from '../helpers/idp.js';

/**
 * The validator reads every value from the canonical bytes a verified signature covers. This holds
 * the signature verifier to what that relies on, with jitprov's structural guard out of the way:
 * under each wrapping shape, whichever ds:Signature of the document is verified, it either refuses
 * or every NameID in the bytes it returns is the one the IdP signed, never the evil copy.
 */
const SIGNED_NAME = 'alice@contoso.example';
const EVIL_NAME = 'admin@contoso.example';

let idp: TestIdp;
let attacker: TestIdp;
let keys: KeyObject[];
beforeAll(async () => {
  [idp, attacker] = await Promise.all([TestIdp.create(), TestIdp.create()]);
  keys = [createPublicKey(idp.key.certPem)];
});

const nameIdsIn = (xml: string): string[] => {
  const root = parseStrictXml(xml)?.documentElement;
  if (!root) throw new Error('the verifier returned bytes that are not XML');
  return Array.from(root.getElementsByTagNameNS(NS.saml, 'NameID')).map((el) => textOf(el));
};

/** Verifies every signature in the document on its own; returns what each verified one covers. */
function verifiedBytes(xml: string, with_: KeyObject[] = keys): { verified: string[]; refused: number } {
  const doc = parseStrictXml(xml);
  if (!doc) throw new Error('attack is not XML');
  const verified: string[] = [];
  let refused = 0;
  for (const signature of Array.from(doc.getElementsByTagNameNS(NS.ds, 'Signature'))) {
    try {
      verified.push(verifySignature(xml, signature, with_));
    } catch (e) {
      expect(e).toMatchObject({ code: expect.stringMatching(/^SAML_SIGNATURE_(INVALID|MALFORMED)$/) });
      refused++;
    }
  }
  return { verified, refused };
}

describe('the signature verifier under signature wrapping, without the guard', () => {
  for (const [name, shape] of Object.entries(XSW)) {
    const modes = XSW_MOVES[name] === 'response' ? [] : (['assertion'] as const);
    for (const sign of [...modes, 'response-and-assertion'] as const) {
      it(`${name} (${sign} signed): every verified byte names the signed user`, () => {
        const attack = shape(idp.signedXml(SIGNED_NAME, {}, { sign }), EVIL_NAME);
        expect(attack).toContain(EVIL_NAME);
        const { verified, refused } = verifiedBytes(attack);
        expect(verified.length + refused).toBeGreaterThan(0);
        for (const bytes of verified) {
          expect(nameIdsIn(bytes).length).toBeGreaterThan(0);
          for (const nameId of nameIdsIn(bytes)) expect(nameId).toBe(SIGNED_NAME);
        }
      });
    }
  }
});

describe('the signature verifier', () => {
  it('returns the signed assertion for an untouched response', () => {
    const { verified, refused } = verifiedBytes(idp.signedXml(SIGNED_NAME));
    expect(refused).toBe(0);
    expect(verified.map(nameIdsIn)).toEqual([[SIGNED_NAME]]);
  });

  it('refuses a valid signature by a key that is not pinned, even when its certificate is in KeyInfo', () => {
    const { verified, refused } = verifiedBytes(attacker.signedXml(SIGNED_NAME));
    expect(verified).toEqual([]);
    expect(refused).toBe(1);
  });

  it('accepts the second pinned key (certificate rollover) and refuses when neither matches', () => {
    const rollover = [createPublicKey(attacker.key.certPem), ...keys];
    expect(verifiedBytes(idp.signedXml(SIGNED_NAME), rollover).verified.map(nameIdsIn)).toEqual([
      [SIGNED_NAME],
    ]);
    const neither = [createPublicKey(attacker.key.certPem)];
    expect(verifiedBytes(idp.signedXml(SIGNED_NAME), neither).refused).toBe(1);
  });

  it('refuses a flipped SignatureValue and a changed DigestValue', () => {
    const xml = idp.signedXml(SIGNED_NAME);
    const flip = (tag: string) =>
      edit(xml, (doc) => {
        const el = one(doc, NS.ds, tag);
        const bytes = Buffer.from(textOf(el), 'base64');
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
        el.textContent = bytes.toString('base64');
      });
    for (const tag of ['SignatureValue', 'DigestValue']) {
      const { verified, refused } = verifiedBytes(flip(tag));
      expect(verified, tag).toEqual([]);
      expect(refused, tag).toBe(1);
    }
  });

  it('an unsigned copy with a fresh ID beside the signed one: only the signed one comes back', () => {
    const attack = edit(idp.signedXml(SIGNED_NAME), (doc) => {
      const copy = withoutSignature(one(doc, NS.saml, 'Assertion'));
      copy.setAttribute('ID', '_fresh');
      setNameId(copy, EVIL_NAME);
      const extensions = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      extensions.appendChild(copy);
      doc.documentElement?.insertBefore(extensions, one(doc, NS.samlp, 'Status'));
    });
    expect(verifiedBytes(attack).verified.map(nameIdsIn)).toEqual([[SIGNED_NAME]]);
  });

  it('a comment splitting the signed NameID: the whole signed text comes back', () => {
    const signed = 'admin@contoso.example.evil.example';
    const attack = idp
      .signedXml(signed)
      .replace(`>${signed}<`, '>admin@contoso.example<!---->.evil.example<');
    expect(verifiedBytes(attack).verified.map(nameIdsIn)).toEqual([[signed]]);
  });
});
