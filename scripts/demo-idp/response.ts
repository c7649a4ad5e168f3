import { randomUUID } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { escapeXml } from '../../src/saml/xml.js';
import type { IdpKeyPair } from './keys.js';

export interface SignedResponseOptions {
  /** Signs; its certificate goes into KeyInfo. */
  key: IdpKeyPair;
  /** e.g. https://sts.windows.net/<tenant-guid>/ */
  issuer: string;
  /** SP entity id, for AudienceRestriction/Audience. */
  audience: string;
  /** ACS URL: Response@Destination and SubjectConfirmationData@Recipient. */
  destination: string;
  nameId: string;
  /** Default urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress. */
  nameIdFormat?: string;
  /** Name -> value(s); an array becomes several AttributeValue elements in ONE Attribute. */
  attributes?: Record<string, string | string[]>;
  /** Default 'assertion', Entra's default. */
  sign?: 'assertion' | 'response-and-assertion' | 'response' | 'none';
  /** Default sha256 (rsa-sha256 with a sha256 digest). */
  signatureAlgorithm?: 'sha256' | 'sha1';
  /** Default: the signature algorithm's own (sha1 with rsa-sha1, sha256 with rsa-sha256). */
  digestAlgorithm?: 'sha256' | 'sha1';
  /** IssueInstant and AuthnInstant; default now. */
  now?: Date;
  /** Conditions@NotBefore; default now - 5 min. */
  notBefore?: Date;
  /** Conditions@NotOnOrAfter and SubjectConfirmationData@NotOnOrAfter; default now + 1 h. */
  notOnOrAfter?: Date;
  /** Default '_' + a GUID, as Entra does. */
  assertionId?: string;
  responseId?: string;
  /** Sets Response@InResponseTo and SubjectConfirmationData@InResponseTo. */
  inResponseTo?: string;
  /** Default urn:oasis:names:tc:SAML:2.0:status:Success. The assertion is included regardless. */
  statusCode?: string;
  /** Overrides Response/Issuer only (default = issuer). */
  responseIssuer?: string;
}

const ALGORITHMS = {
  sha256: {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
  sha1: {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RESPONSE_XPATH = "/*[local-name(.)='Response']";
const ASSERTION_XPATH = `${RESPONSE_XPATH}/*[local-name(.)='Assertion']`;

/** A SAML 2.0 Response shaped, ordered and signed the way Microsoft Entra ID sends it. */
export function buildSignedResponse(opts: SignedResponseOptions): string {
  return signResponseXml(buildUnsignedResponse(opts), opts);
}

/** The same Response before signing: for tests that alter it and then sign (see signResponseXml). */
export function buildUnsignedResponse(opts: Omit<SignedResponseOptions, 'key'>): string {
  return buildResponseXml(opts, opts.now ?? new Date(), opts.assertionId ?? `_${randomUUID()}`);
}

/** Signs a Response built by buildUnsignedResponse (its assertion, the Response, or both) as Entra does. */
export function signResponseXml(
  xml: string,
  opts: Pick<SignedResponseOptions, 'key' | 'sign' | 'signatureAlgorithm' | 'digestAlgorithm'>,
): string {
  const sign = opts.sign ?? 'assertion';
  const signatureAlgorithm = opts.signatureAlgorithm ?? 'sha256';
  const algorithm = {
    signature: ALGORITHMS[signatureAlgorithm].signature,
    digest: ALGORITHMS[opts.digestAlgorithm ?? signatureAlgorithm].digest,
  };
  let signed = xml;
  if (sign === 'assertion' || sign === 'response-and-assertion') {
    signed = signEnveloped(signed, ASSERTION_XPATH, opts.key, algorithm);
  }
  // The response signature covers the assertion's signature, so it must come second.
  if (sign === 'response' || sign === 'response-and-assertion') {
    signed = signEnveloped(signed, RESPONSE_XPATH, opts.key, algorithm);
  }
  return signed;
}

/** The value of the SAMLResponse form field an IdP posts to the ACS. */
export function encodeSamlResponse(xml: string): string {
  return Buffer.from(xml, 'utf8').toString('base64');
}

function buildResponseXml(opts: Omit<SignedResponseOptions, 'key'>, now: Date, assertionId: string): string {
  const issueInstant = now.toISOString();
  const notBefore = (opts.notBefore ?? new Date(now.getTime() - 5 * 60_000)).toISOString();
  const notOnOrAfter = (opts.notOnOrAfter ?? new Date(now.getTime() + 60 * 60_000)).toISOString();
  const responseId = opts.responseId ?? `_${randomUUID()}`;
  const inResponseTo =
    opts.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(opts.inResponseTo)}"`;
  const nameIdFormat = opts.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
  const statusCode = opts.statusCode ?? 'urn:oasis:names:tc:SAML:2.0:status:Success';
  return (
    `<samlp:Response ID="${escapeXml(responseId)}" Version="2.0" IssueInstant="${issueInstant}"` +
    ` Destination="${escapeXml(opts.destination)}"${inResponseTo}` +
    ' xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">' +
    `<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">${escapeXml(opts.responseIssuer ?? opts.issuer)}</Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="${escapeXml(statusCode)}"/></samlp:Status>` +
    `<Assertion ID="${escapeXml(assertionId)}" IssueInstant="${issueInstant}" Version="2.0"` +
    ' xmlns="urn:oasis:names:tc:SAML:2.0:assertion">' +
    `<Issuer>${escapeXml(opts.issuer)}</Issuer>` +
    `<Subject><NameID Format="${escapeXml(nameIdFormat)}">${escapeXml(opts.nameId)}</NameID>` +
    '<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<SubjectConfirmationData${inResponseTo} NotOnOrAfter="${notOnOrAfter}"` +
    ` Recipient="${escapeXml(opts.destination)}"/></SubjectConfirmation></Subject>` +
    `<Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}">` +
    `<AudienceRestriction><Audience>${escapeXml(opts.audience)}</Audience></AudienceRestriction></Conditions>` +
    attributeStatement(opts.attributes ?? {}) +
    // Entra uses the assertion id as the session index.
    `<AuthnStatement AuthnInstant="${issueInstant}" SessionIndex="${escapeXml(assertionId)}">` +
    '<AuthnContext><AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:Password</AuthnContextClassRef>' +
    '</AuthnContext></AuthnStatement></Assertion></samlp:Response>'
  );
}

function attributeStatement(attributes: Record<string, string | string[]>): string {
  const entries = Object.entries(attributes);
  // The schema requires at least one Attribute in an AttributeStatement.
  if (entries.length === 0) return '';
  const body = entries
    .map(([name, value]) => {
      const values = (Array.isArray(value) ? value : [value])
        .map((v) => `<AttributeValue>${escapeXml(v)}</AttributeValue>`)
        .join('');
      return `<Attribute Name="${escapeXml(name)}">${values}</Attribute>`;
    })
    .join('');
  return `<AttributeStatement>${body}</AttributeStatement>`;
}

function signEnveloped(
  xml: string,
  targetXpath: string,
  key: IdpKeyPair,
  algorithm: { signature: string; digest: string },
): string {
  const sig = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certPem,
    signatureAlgorithm: algorithm.signature,
    canonicalizationAlgorithm: EXC_C14N,
  });
  sig.addReference({
    xpath: targetXpath,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: algorithm.digest,
  });
  // SAML's schema puts ds:Signature right after the element's Issuer.
  sig.computeSignature(xml, {
    location: { reference: `${targetXpath}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sig.getSignedXml();
}
