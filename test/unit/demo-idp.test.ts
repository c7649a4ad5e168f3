import { type Profile, SAML } from '@node-saml/node-saml';
import { DOMParser } from '@xmldom/xmldom';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildEntraMetadata,
  buildSignedResponse,
  EntraClaims,
  encodeSamlResponse,
  generateIdpKeyPair,
  type IdpKeyPair,
  type SignedResponseOptions,
} from '../../scripts/demo-idp/index.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const IDP_ISSUER = `https://sts.windows.net/${TENANT}/`;
const SP_ENTITY_ID = 'https://jitprov.example.com/saml/metadata';
const ACS_URL = 'https://jitprov.example.com/saml/acs';
const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
const MD_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';

let key: IdpKeyPair;
let otherKey: IdpKeyPair;

beforeAll(async () => {
  [key, otherKey] = await Promise.all([generateIdpKeyPair(), generateIdpKeyPair({ commonName: 'attacker' })]);
});

function options(overrides: Partial<SignedResponseOptions> = {}): SignedResponseOptions {
  return {
    key,
    issuer: IDP_ISSUER,
    audience: SP_ENTITY_ID,
    destination: ACS_URL,
    nameId: 'zoe.angstrom@contoso.example',
    attributes: {
      [EntraClaims.givenName]: 'Zoë',
      [EntraClaims.surname]: 'Ångström',
      [EntraClaims.displayName]: 'Zoë Ångström <R&D> "山田"',
      [EntraClaims.groups]: ['b1f0c2a4-0000-4000-8000-000000000001', 'b1f0c2a4-0000-4000-8000-000000000002'],
      [EntraClaims.tenantId]: TENANT,
    },
    ...overrides,
  };
}

function validate(xml: string, wantAuthnResponseSigned: boolean, idpCert = key.certPem) {
  const saml = new SAML({
    idpCert,
    issuer: SP_ENTITY_ID,
    callbackUrl: ACS_URL,
    audience: SP_ENTITY_ID,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned,
  });
  return saml.validatePostResponseAsync({ SAMLResponse: encodeSamlResponse(xml) });
}

/** node-saml types `profile.attributes` as unknown. */
function attributesOf(profile: Profile | null | undefined): Record<string, unknown> {
  return (profile?.attributes ?? {}) as Record<string, unknown>;
}

function parse(xml: string) {
  return new DOMParser().parseFromString(xml, 'text/xml');
}

function childElements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === n.ELEMENT_NODE) out.push(n as Element);
  }
  return out;
}

function localNames(parent: Element): string[] {
  return childElements(parent).map((e) => e.localName ?? '');
}

describe('buildSignedResponse', () => {
  it('signs only the assertion by default, in the shape Entra sends', async () => {
    const now = new Date('2030-01-02T03:04:05.678Z');
    const xml = buildSignedResponse(options({ now, inResponseTo: '_req1' }));
    const response = parse(xml).documentElement!;
    expect(response.namespaceURI).toBe(SAMLP_NS);
    expect(response.getAttribute('IssueInstant')).toBe('2030-01-02T03:04:05.678Z');
    expect(response.getAttribute('Destination')).toBe(ACS_URL);
    expect(response.getAttribute('InResponseTo')).toBe('_req1');
    expect(response.getAttribute('ID')).toMatch(/^_[0-9a-f-]{36}$/);
    expect(localNames(response)).toEqual(['Issuer', 'Status', 'Assertion']);
    const assertion = response.getElementsByTagNameNS(SAML_NS, 'Assertion')[0]!;
    expect(localNames(assertion)).toEqual([
      'Issuer',
      'Signature',
      'Subject',
      'Conditions',
      'AttributeStatement',
      'AuthnStatement',
    ]);
    const conditions = assertion.getElementsByTagNameNS(SAML_NS, 'Conditions')[0]!;
    expect(conditions.getAttribute('NotBefore')).toBe('2030-01-02T02:59:05.678Z');
    expect(conditions.getAttribute('NotOnOrAfter')).toBe('2030-01-02T04:04:05.678Z');
    const confirmation = assertion.getElementsByTagNameNS(SAML_NS, 'SubjectConfirmationData')[0]!;
    expect(confirmation.getAttribute('Recipient')).toBe(ACS_URL);
    expect(confirmation.getAttribute('InResponseTo')).toBe('_req1');
    const signature = assertion.getElementsByTagNameNS(DS_NS, 'Signature')[0]!;
    expect(signature.parentNode).toBe(assertion);
    expect(xml).toContain('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(xml).toContain('http://www.w3.org/2001/04/xmlenc#sha256');
    expect(response.getElementsByTagNameNS(DS_NS, 'Signature')).toHaveLength(1);
  });

  it('assertion-only signature validates in node-saml and yields NameID and attributes', async () => {
    const { profile } = await validate(buildSignedResponse(options()), false);
    expect(profile?.nameID).toBe('zoe.angstrom@contoso.example');
    expect(profile?.issuer).toBe(IDP_ISSUER);
    expect(attributesOf(profile)[EntraClaims.groups]).toEqual([
      'b1f0c2a4-0000-4000-8000-000000000001',
      'b1f0c2a4-0000-4000-8000-000000000002',
    ]);
    expect(attributesOf(profile)[EntraClaims.givenName]).toBe('Zoë');
    expect(attributesOf(profile)[EntraClaims.displayName]).toBe('Zoë Ångström <R&D> "山田"');
  });

  it('escapes markup in every value so it cannot inject elements', async () => {
    // CR, LF and tab too: unescaped they would be normalised away by the parser and break the digest.
    const nasty = `a<b>&c"d'e</NameID><x/>山田\r\n\tend`;
    const xml = buildSignedResponse(options({ nameId: nasty, attributes: { 'n"<&': nasty } }));
    const { profile } = await validate(xml, false);
    expect(profile?.nameID).toBe(nasty);
    expect(attributesOf(profile)).toEqual({ 'n"<&': nasty });
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    expect(() => buildSignedResponse(options({ nameId: 'a\u0000b' }))).toThrow(/XML 1.0/);
  });

  it('assertion-only signature is refused when the SP wants the response signed', async () => {
    await expect(validate(buildSignedResponse(options()), true)).rejects.toThrow(
      /^Invalid document signature$/,
    );
  });

  it('response-and-assertion validates with wantAuthnResponseSigned', async () => {
    const xml = buildSignedResponse(options({ sign: 'response-and-assertion' }));
    const response = parse(xml).documentElement!;
    expect(localNames(response)).toEqual(['Issuer', 'Signature', 'Status', 'Assertion']);
    const assertion = response.getElementsByTagNameNS(SAML_NS, 'Assertion')[0]!;
    expect(localNames(assertion).slice(0, 2)).toEqual(['Issuer', 'Signature']);
    const { profile } = await validate(xml, true);
    expect(profile?.nameID).toBe('zoe.angstrom@contoso.example');
  });

  it('rejects a response signed by another key', async () => {
    await expect(validate(buildSignedResponse(options({ key: otherKey })), false)).rejects.toThrow(
      /^Invalid signature$/,
    );
    const both = buildSignedResponse(options({ key: otherKey, sign: 'response-and-assertion' }));
    await expect(validate(both, true)).rejects.toThrow(/^Invalid document signature$/);
  });

  it('rejects an unsigned response', async () => {
    await expect(validate(buildSignedResponse(options({ sign: 'none' })), false)).rejects.toThrow(
      /^Invalid signature$/,
    );
  });

  it('rejects a wrong audience', async () => {
    const xml = buildSignedResponse(options({ audience: 'https://someone-else.example/' }));
    await expect(validate(xml, false)).rejects.toThrow(
      `SAML assertion audience mismatch. Expected: ${SP_ENTITY_ID} Received: https://someone-else.example/`,
    );
  });

  it('rejects an expired assertion', async () => {
    const now = new Date(Date.now() - 2 * 60 * 60_000);
    const xml = buildSignedResponse(options({ now, notOnOrAfter: new Date(Date.now() - 60_000) }));
    await expect(validate(xml, false)).rejects.toThrow(/^SAML assertion expired: clocks skewed too much$/);
  });

  it('rejects an assertion that is not valid yet', async () => {
    const xml = buildSignedResponse(options({ notBefore: new Date(Date.now() + 10 * 60_000) }));
    await expect(validate(xml, false)).rejects.toThrow(/^SAML assertion not yet valid$/);
  });

  it('rejects an attribute value tampered with after signing', async () => {
    const xml = buildSignedResponse(options());
    const tampered = xml.replace('>Zoë<', '>Mallory<');
    expect(tampered).not.toBe(xml);
    await expect(validate(tampered, false)).rejects.toThrow(/^Invalid signature$/);
    const both = buildSignedResponse(options({ sign: 'response-and-assertion' })).replace(
      '>Zoë<',
      '>Mallory<',
    );
    await expect(validate(both, true)).rejects.toThrow(/^Invalid document signature$/);
  });

  it('signs with rsa-sha1 and a sha1 digest when asked (and node-saml still accepts it)', async () => {
    const xml = buildSignedResponse(options({ signatureAlgorithm: 'sha1' }));
    const doc = parse(xml);
    const method = doc.getElementsByTagNameNS(DS_NS, 'SignatureMethod')[0]!;
    expect(method.getAttribute('Algorithm')).toBe('http://www.w3.org/2000/09/xmldsig#rsa-sha1');
    const digest = doc.getElementsByTagNameNS(DS_NS, 'DigestMethod')[0]!;
    expect(digest.getAttribute('Algorithm')).toBe('http://www.w3.org/2000/09/xmldsig#sha1');
    await expect(validate(xml, false)).resolves.toMatchObject({ loggedOut: false });
  });

  it('overrides only the Response Issuer with responseIssuer', () => {
    const doc = parse(buildSignedResponse(options({ responseIssuer: 'https://evil.example/' })));
    const issuers = doc.getElementsByTagNameNS(SAML_NS, 'Issuer');
    expect(issuers[0]?.textContent).toBe('https://evil.example/');
    expect(issuers[1]?.textContent).toBe(IDP_ISSUER);
  });
});

describe('buildEntraMetadata', () => {
  it('lists every certificate, without PEM armour, in the IDPSSODescriptor after the WS-Fed roles', () => {
    const xml = buildEntraMetadata({
      entityId: IDP_ISSUER,
      ssoUrl: `https://login.microsoftonline.com/${TENANT}/saml2`,
      certPems: [key.certPem, otherKey.certPem],
    });
    const root = parse(xml).documentElement!;
    expect(root.namespaceURI).toBe(MD_NS);
    expect(root.getAttribute('entityID')).toBe(IDP_ISSUER);
    expect(localNames(root)).toEqual(['RoleDescriptor', 'RoleDescriptor', 'IDPSSODescriptor']);
    const idp = root.getElementsByTagNameNS(MD_NS, 'IDPSSODescriptor')[0]!;
    expect(idp.getAttribute('protocolSupportEnumeration')).toBe('urn:oasis:names:tc:SAML:2.0:protocol');
    const certs = Array.from(idp.getElementsByTagNameNS(DS_NS, 'X509Certificate')).map((c) => c.textContent);
    const bare = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(certs).toEqual([bare(key.certPem), bare(otherKey.certPem)]);
    expect(certs[0]).not.toContain('BEGIN');
    const sso = Array.from(idp.getElementsByTagNameNS(MD_NS, 'SingleSignOnService')).map((e) =>
      e.getAttribute('Binding'),
    );
    expect(sso).toEqual([
      'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
      'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
    ]);
  });
});
