import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { AppError, type ErrorCode } from '../errors.js';
import type { IdpConnection } from './connection.entity.js';
import type { IncomingResponse } from './incoming.js';
import { childElements, firstChild, NS, parseStrictXml, textOf } from './xml.js';

/** What a verified assertion says, read only from the signed assertion XML. */
export interface ValidatedAssertion {
  issuer: string;
  assertionId: string;
  nameId: string;
  nameIdFormat: string | null;
  /** Attribute name → values, exactly as the IdP named them. Duplicate Attribute elements merge. */
  attributes: Record<string, string[]>;
  /** When the assertion stops being acceptable (Conditions / SubjectConfirmationData NotOnOrAfter). */
  notOnOrAfter: Date;
}

export interface SamlValidatorOptions {
  spEntityId: string;
  acsUrl: string;
}

type ConnectionTrust = Pick<
  IdpConnection,
  'id' | 'entityId' | 'certificates' | 'wantResponseSigned' | 'clockSkewSeconds' | 'updatedAt'
>;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/**
 * Verifies responses with node-saml against one connection's pinned certificates, then makes the
 * checks node-saml leaves to the application (issuer, destination, recipient, bearer, NameID).
 * One node-saml instance per connection version, so certificates are set up once, not per call.
 */
export function createSamlValidator(opts: SamlValidatorOptions) {
  const instances = new Map<string, { version: number; saml: SAML }>();

  function samlFor(conn: ConnectionTrust): SAML {
    const version = conn.updatedAt.getTime();
    const hit = instances.get(conn.id);
    if (hit && hit.version === version) return hit.saml;
    const saml = new SAML({
      idpCert: conn.certificates.map((c) => c.pem),
      issuer: opts.spEntityId,
      audience: opts.spEntityId,
      callbackUrl: opts.acsUrl,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: conn.wantResponseSigned,
      acceptedClockSkewMs: conn.clockSkewSeconds * 1000,
      validateInResponseTo: ValidateInResponseTo.never,
    });
    instances.set(conn.id, { version, saml });
    return saml;
  }

  async function validate(conn: ConnectionTrust, incoming: IncomingResponse): Promise<ValidatedAssertion> {
    // node-saml accepts a signed assertion whatever the Response status says.
    if (incoming.status !== SUCCESS) {
      throw new AppError('SAML_STATUS_NOT_SUCCESS', 'IdP returned a non-success status', {
        status: incoming.status ?? 'missing',
      });
    }
    let assertionXml: string;
    try {
      const { profile } = await samlFor(conn).validatePostResponseAsync({ SAMLResponse: incoming.base64 });
      if (!profile) throw new AppError('SAML_INVALID', 'SAML response carries no assertion');
      assertionXml = profile.getAssertionXml?.() ?? '';
    } catch (e) {
      throw e instanceof AppError ? e : fromNodeSaml(e);
    }
    if (incoming.destination !== null && incoming.destination !== opts.acsUrl) {
      throw new AppError('SAML_DESTINATION_MISMATCH', `Response Destination is not this service's ACS URL`, {
        expected: opts.acsUrl,
        received: incoming.destination,
      });
    }
    return readAssertion(assertionXml, conn.entityId, opts.acsUrl, conn.clockSkewSeconds);
  }

  return { validate };
}
export type SamlValidator = ReturnType<typeof createSamlValidator>;

const NODE_SAML_ERRORS: [RegExp, ErrorCode, string][] = [
  [/signature/i, 'SAML_SIGNATURE_INVALID', 'signature is not valid for any of the connection certificates'],
  [/audience mismatch/i, 'SAML_AUDIENCE_MISMATCH', 'assertion audience does not include this service'],
  [/not yet valid/i, 'SAML_ASSERTION_NOT_YET_VALID', 'assertion is not yet valid (NotBefore)'],
  [/expired/i, 'SAML_ASSERTION_EXPIRED', 'assertion has expired (NotOnOrAfter)'],
  [/provider returned|status/i, 'SAML_STATUS_NOT_SUCCESS', 'IdP returned a non-success status'],
  [/missing saml assertion/i, 'SAML_INVALID', 'response carries no assertion'],
  [/AudienceRestriction/i, 'SAML_AUDIENCE_MISMATCH', 'assertion has no audience restriction'],
  [/not a valid XML/i, 'SAML_RESPONSE_MALFORMED', 'response is not well-formed XML'],
];

function fromNodeSaml(e: unknown): AppError {
  const message = e instanceof Error ? e.message : String(e);
  for (const [pattern, code, text] of NODE_SAML_ERRORS) {
    if (pattern.test(message)) return new AppError(code, `SAML response rejected: ${text}`, {}, { cause: e });
  }
  return new AppError('SAML_INVALID', 'SAML response rejected by validation', {}, { cause: e });
}

function readAssertion(
  xml: string,
  entityId: string,
  acsUrl: string,
  skewSeconds: number,
): ValidatedAssertion {
  const assertion = parseStrictXml(xml)?.documentElement;
  if (!assertion || assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion') {
    throw new AppError('SAML_INVALID', 'signed assertion could not be read');
  }
  const issuerEl = firstChild(assertion, NS.assertion, 'Issuer');
  const issuer = issuerEl ? textOf(issuerEl).trim() : '';
  if (issuer !== entityId) {
    throw new AppError('SAML_ISSUER_MISMATCH', `assertion Issuer is not the connection's entity id`, {
      expected: entityId,
      received: issuer,
    });
  }
  const subject = firstChild(assertion, NS.assertion, 'Subject');
  const nameIdEl = subject && firstChild(subject, NS.assertion, 'NameID');
  const nameId = nameIdEl ? textOf(nameIdEl).trim() : '';
  if (!nameId) throw new AppError('SAML_NAMEID_MISSING', 'assertion has no NameID');

  const bearers = (subject ? childElements(subject, NS.assertion, 'SubjectConfirmation') : []).filter(
    (sc) => sc.getAttribute('Method') === BEARER,
  );
  if (bearers.length === 0) throw new AppError('SAML_INVALID', 'assertion has no bearer SubjectConfirmation');
  const confirmations = bearers.map((b) => firstChild(b, NS.assertion, 'SubjectConfirmationData'));
  const recipients = confirmations.map((d) => d?.getAttribute('Recipient') ?? '');
  if (!recipients.includes(acsUrl)) {
    throw new AppError(
      'SAML_RECIPIENT_MISMATCH',
      `SubjectConfirmationData Recipient is not this service's ACS URL`,
      {
        expected: acsUrl,
        received: recipients.join(', '),
      },
    );
  }

  // node-saml checks SubjectConfirmationData times only when it validates InResponseTo.
  const now = Date.now();
  const skewMs = skewSeconds * 1000;
  for (const d of confirmations) {
    const notOnOrAfter = Date.parse(d?.getAttribute('NotOnOrAfter') ?? '');
    if (Number.isFinite(notOnOrAfter) && now >= notOnOrAfter + skewMs) {
      throw new AppError(
        'SAML_ASSERTION_EXPIRED',
        'SAML response rejected: subject confirmation has expired',
      );
    }
    const notBefore = Date.parse(d?.getAttribute('NotBefore') ?? '');
    if (Number.isFinite(notBefore) && now < notBefore - skewMs) {
      throw new AppError(
        'SAML_ASSERTION_NOT_YET_VALID',
        'SAML response rejected: subject confirmation not yet valid',
      );
    }
  }

  const conditions = firstChild(assertion, NS.assertion, 'Conditions');
  const limits = [
    conditions?.getAttribute('NotOnOrAfter'),
    ...confirmations.map((d) => d?.getAttribute('NotOnOrAfter')),
  ]
    .filter((v): v is string => !!v)
    .map((v) => Date.parse(v))
    .filter((t) => Number.isFinite(t));
  // Without any NotOnOrAfter the replay record still needs an end: a day is longer than any IdP's.
  const notOnOrAfter = new Date(
    (limits.length ? Math.min(...limits) : Date.now() + 86_400_000) + skewSeconds * 1000,
  );

  const attributes: Record<string, string[]> = Object.create(null);
  for (const statement of childElements(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attr of childElements(statement, NS.assertion, 'Attribute')) {
      const name = attr.getAttribute('Name') ?? '';
      if (!name) continue;
      const values = childElements(attr, NS.assertion, 'AttributeValue')
        .filter((v) => v.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') !== 'true')
        .map(textOf);
      attributes[name] = [...(attributes[name] ?? []), ...values];
    }
  }
  const assertionId = assertion.getAttribute('ID') ?? '';
  if (!assertionId) throw new AppError('SAML_INVALID', 'assertion has no ID');
  return {
    issuer,
    assertionId,
    nameId,
    nameIdFormat: nameIdEl?.getAttribute('Format') || null,
    attributes,
    notOnOrAfter,
  };
}
