import { createPublicKey, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignedXml } from 'xml-crypto';
import { AppError } from '../../src/errors.js';
import { isEnvelopedExcC14n, verifySignature, verifyWithSignedXml } from '../../src/saml/verify-signature.js';
import { parseStrictXml } from '../../src/saml/xml.js';
import { edit, NS, one, setNameId, signatureOf } from '../fixtures/saml/dom.js';
import { TestIdp } from '../helpers/idp.js';

/**
 * jitprov verifies the signature shape every SAML IdP makes on the element the signature sits in,
 * with xml-crypto's canonicalization, digest and signature classes, and leaves any other shape to
 * xml-crypto's `checkSignature`. The two must agree: same verdict, same error code, same bytes, on
 * documents signed the ways IdPs sign them and on every way of tampering with them.
 */
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const EXC_COMMENTS = 'http://www.w3.org/2001/10/xml-exc-c14n#WithComments';
const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA512 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA512 = 'http://www.w3.org/2001/04/xmlenc#sha512';

let idp: TestIdp;
let other: TestIdp;
let keys: KeyObject[];
beforeAll(async () => {
  [idp, other] = await Promise.all([TestIdp.create(), TestIdp.create()]);
  keys = [createPublicKey(idp.key.certPem)];
});

type Outcome = { bytes: string } | { code: string; message: string };

const outcome = (verify: () => string): Outcome => {
  try {
    return { bytes: verify() };
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, message: e.message };
  }
};

/** Both verifiers on every signature of `xml`, each on its own parse (as the validator parses once). */
function both(
  xml: string,
  with_: KeyObject[] = keys,
): { fast: Outcome[]; library: Outcome[]; fastShape: boolean[] } {
  const signaturesIn = () => {
    const doc = parseStrictXml(xml);
    if (!doc) throw new Error('fixture is not XML');
    return Array.from(doc.getElementsByTagNameNS(NS.ds, 'Signature'));
  };
  return {
    fastShape: signaturesIn().map(isEnvelopedExcC14n),
    fast: signaturesIn().map((s) => outcome(() => verifySignature(xml, s, with_))),
    library: signaturesIn().map((s) => outcome(() => verifyWithSignedXml(xml, s, with_))),
  };
}

interface SignOptions {
  c14n?: string;
  transforms?: string[];
  prefixList?: string[];
  signature?: string;
  digest?: string;
  key?: TestIdp;
}

/** Signs the element with `id` the way an IdP does, with the chosen algorithms. */
function signElement(xml: string, id: string, o: SignOptions = {}): string {
  const key = (o.key ?? idp).key;
  const sig = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certPem,
    signatureAlgorithm: o.signature ?? RSA_SHA256,
    canonicalizationAlgorithm: o.c14n ?? EXC,
  });
  sig.addReference({
    xpath: `//*[@ID='${id}']`,
    transforms: o.transforms ?? [ENVELOPED, EXC],
    digestAlgorithm: o.digest ?? SHA256,
    inclusiveNamespacesPrefixList: o.prefixList ?? [],
  });
  sig.computeSignature(xml, {
    location: { reference: `//*[@ID='${id}']/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}

/**
 * A Response whose assertion uses prefixes declared only on the Response (saml, xs, xsi), so that
 * the ancestors' namespaces matter to canonicalization, with comments and non-ASCII text inside.
 */
const PREFIXED = `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_r1" Version="2.0"><saml:Issuer>https://idp.example/</saml:Issuer><saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-11-29T10:00:00Z"><saml:Issuer>https://idp.example/</saml:Issuer><saml:Subject><saml:NameID>zoë@contoso.example<!-- a comment --></saml:NameID></saml:Subject><saml:AttributeStatement><saml:Attribute Name="dept"><saml:AttributeValue xsi:type="xs:string">R&amp;D &lt;Nord&gt;</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>`;

const expectAgreement = (xml: string, with_?: KeyObject[]) => {
  const { fast, library, fastShape } = both(xml, with_);
  expect(fast).toEqual(library);
  return { fast, fastShape };
};

describe('the enveloped exclusive-C14N path and xml-crypto agree', () => {
  it('on the demo IdP (Entra-shaped) responses, assertion and response+assertion signed', () => {
    for (const sign of ['assertion', 'response-and-assertion'] as const) {
      const { fast, fastShape } = expectAgreement(idp.signedXml('zoë@contoso.example', {}, { sign }));
      expect(fastShape.every(Boolean)).toBe(true);
      for (const o of fast) expect(o).toHaveProperty('bytes');
    }
  });

  const shapes: Record<string, SignOptions & { fastShape: boolean }> = {
    'exclusive C14N, sha256': { fastShape: true },
    'exclusive C14N, rsa-sha512 and sha512': { fastShape: true, signature: RSA_SHA512, digest: SHA512 },
    'exclusive C14N with an InclusiveNamespaces PrefixList': { fastShape: true, prefixList: ['xs', 'xsi'] },
    'inclusive C14N over SignedInfo': { fastShape: false, c14n: C14N },
    'inclusive C14N as the reference transform': { fastShape: false, transforms: [ENVELOPED, C14N] },
    'exclusive C14N with comments': { fastShape: false, transforms: [ENVELOPED, EXC_COMMENTS] },
    'the enveloped-signature transform alone': { fastShape: false, transforms: [ENVELOPED] },
  };
  for (const [name, shape] of Object.entries(shapes)) {
    it(`${name}: valid, and every tampering refused alike`, () => {
      const signed = signElement(PREFIXED, '_a1', shape);
      const { fast, fastShape } = expectAgreement(signed);
      expect(fastShape).toEqual([shape.fastShape]);
      expect(fast[0]).toHaveProperty('bytes');
      expect((fast[0] as { bytes: string }).bytes).toContain('zoë@contoso.example');

      const tamperings: Record<string, (doc: Document) => void> = {
        'NameID changed': (doc) => setNameId(one(doc, NS.saml, 'Assertion'), 'admin@contoso.example'),
        'attribute value changed': (doc) => {
          const v = one(doc, NS.saml, 'AttributeValue');
          (v.firstChild as Text).data = 'Finance';
        },
        'DigestValue changed': (doc) => {
          const d = one(doc, NS.ds, 'DigestValue');
          (d.firstChild as Text).data = Buffer.alloc(32, 7).toString('base64');
        },
        'SignatureValue changed': (doc) => {
          const s = one(doc, NS.ds, 'SignatureValue');
          const bytes = Buffer.from((s.firstChild as Text).data, 'base64');
          bytes[10] = (bytes[10] ?? 0) ^ 1;
          (s.firstChild as Text).data = bytes.toString('base64');
        },
        'SignatureMethod changed after signing': (doc) => {
          const method = one(doc, NS.ds, 'SignatureMethod');
          method.setAttribute(
            'Algorithm',
            method.getAttribute('Algorithm') === RSA_SHA512 ? RSA_SHA256 : RSA_SHA512,
          );
        },
        'a CanonicalizationMethod with a PrefixList added to the assertion': (doc) => {
          const method = doc.createElementNS(NS.ds, 'ds:CanonicalizationMethod');
          const inclusive = doc.createElementNS(EXC, 'ec:InclusiveNamespaces');
          inclusive.setAttribute('PrefixList', 'xs xsi');
          method.appendChild(inclusive);
          one(doc, NS.saml, 'Assertion').appendChild(method);
        },
        'an attribute added to the assertion': (doc) =>
          one(doc, NS.saml, 'Assertion').setAttribute('Extra', 'x'),
      };
      const rebind = (prefix: string) =>
        signed.replace(new RegExp(`(<samlp:Response[^>]* xmlns:${prefix}=")[^"]*"`), '$1urn:evil"');
      const edits: Record<string, string> = {
        ...Object.fromEntries(
          Object.entries(tamperings).map(([what, change]) => [what, edit(signed, change)]),
        ),
        // As text: the DOM would redeclare the old binding on every element when serializing.
        'the assertion namespace rebound on the Response': rebind('saml'),
      };
      expect(edits['the assertion namespace rebound on the Response']).not.toBe(signed);
      for (const [what, tampered] of Object.entries(edits)) {
        const result = expectAgreement(tampered);
        expect(result.fast[0], what).toHaveProperty('code', 'SAML_SIGNATURE_INVALID');
      }
      // A prefix used only inside a value (xsi:type="xs:string") is covered by exclusive C14N only
      // when the signer listed it in InclusiveNamespaces (inclusive C14N covers every binding in
      // scope): either way, both paths say the same.
      const exclusiveOnly =
        (shape.c14n ?? EXC) === EXC &&
        (shape.transforms ?? [ENVELOPED, EXC]).at(-1) !== ENVELOPED &&
        !(shape.transforms ?? []).includes(C14N);
      const rebound = expectAgreement(rebind('xs'));
      expect(rebound.fast[0]).toHaveProperty(exclusiveOnly && !shape.prefixList ? 'bytes' : 'code');
      // What canonicalization ignores is no tampering: a comment added inside the signed element.
      const commented = edit(signed, (doc) => {
        const nameId = one(doc, NS.saml, 'NameID');
        nameId.appendChild(doc.createComment('x'));
      });
      const withComment = expectAgreement(commented);
      if (shape.transforms?.includes(EXC_COMMENTS)) return;
      expect(withComment.fast[0]).toHaveProperty('bytes');
    });
  }

  it('refuses a signature by another key, and accepts the second pinned key', () => {
    const signed = signElement(PREFIXED, '_a1', { key: other });
    const refused = expectAgreement(signed);
    expect(refused.fast[0]).toMatchObject({
      code: 'SAML_SIGNATURE_INVALID',
      message: expect.stringContaining('not valid for any of the connection certificates'),
    });
    const rollover = expectAgreement(signed, [...keys, createPublicKey(other.key.certPem)]);
    expect(rollover.fast[0]).toHaveProperty('bytes');
  });

  it('signs the Response too: both signatures verified alike, each covering its own element', () => {
    const signed = signElement(signElement(PREFIXED, '_a1'), '_r1');
    const { fast, fastShape } = expectAgreement(signed);
    expect(fastShape).toEqual([true, true]);
    const [responseBytes, assertionBytes] = fast.map((o) => (o as { bytes: string }).bytes);
    expect(responseBytes?.startsWith('<samlp:Response')).toBe(true);
    expect(assertionBytes?.startsWith('<saml:Assertion')).toBe(true);
    // The Response's digest covers the assertion with its signature (only its own is enveloped).
    expect(responseBytes).toContain('<SignatureValue>');
    expect(responseBytes?.match(/<SignatureValue>/g)).toHaveLength(1);
  });

  it('a reference to another element than the signature’s parent leaves the fast path', () => {
    const signed = signElement(PREFIXED, '_a1');
    // The assertion's signature moved onto the Response: it still references _a1.
    const moved = edit(signed, (doc) => {
      const assertion = one(doc, NS.saml, 'Assertion');
      const signature = signatureOf(assertion) as Element;
      doc.documentElement?.appendChild(signature);
    });
    const { fastShape, fast } = expectAgreement(moved);
    expect(fastShape).toEqual([false]);
    // Still a valid signature of the assertion (refusing it there is the structural guard's job):
    // what comes back is the assertion it signs, not the Response it now sits in.
    expect((fast[0] as { bytes: string }).bytes.startsWith('<saml:Assertion')).toBe(true);
  });
});
