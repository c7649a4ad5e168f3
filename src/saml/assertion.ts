import { AppError } from '../errors.js';
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
  /** SubjectConfirmationData@InResponseTo: the signed link to our AuthnRequest; null when unsolicited. */
  inResponseTo: string | null;
}

/** What the assertion must say to be for us, now. */
export interface AssertionExpectations {
  entityId: string;
  spEntityId: string;
  acsUrl: string;
  skewSeconds: number;
  /** Expected NameID Format; null = any but transient. */
  nameIdFormat: string | null;
  now?: number;
}

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

const rejected = (code: ConstructorParameters<typeof AppError>[0], message: string, details = {}) =>
  new AppError(code, `SAML response rejected: ${message}`, details);

/** Reads the verified assertion: its canonical signed bytes, never the posted document. */
export function readVerifiedAssertion(xml: string, expect: AssertionExpectations): ValidatedAssertion {
  const assertion = parseStrictXml(xml)?.documentElement;
  if (!assertion || assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion') {
    throw rejected('SAML_INVALID', 'the signed assertion could not be read');
  }
  return checkAssertion(assertion, expect);
}

/**
 * The SAML checks beyond the signature: issuer, NameID and its format, bearer confirmation with our
 * ACS as Recipient, every time window within the skew, audience. Run on the verified assertion for
 * the values used, and before verification on the posted one too, only so a refusal gets its own
 * code before any cryptography is spent.
 */
export function checkAssertion(assertion: Element, expect: AssertionExpectations): ValidatedAssertion {
  const now = expect.now ?? Date.now();
  const skewMs = expect.skewSeconds * 1000;

  const issuerEl = firstChild(assertion, NS.assertion, 'Issuer');
  const issuer = issuerEl ? textOf(issuerEl).trim() : '';
  if (issuer !== expect.entityId) {
    throw rejected('SAML_ISSUER_MISMATCH', `the assertion Issuer is not the connection's entity id`, {
      expected: expect.entityId,
      received: issuer,
    });
  }
  const assertionId = assertion.getAttribute('ID') ?? '';
  if (!assertionId) throw rejected('SAML_INVALID', 'the assertion has no ID');

  const subject = firstChild(assertion, NS.assertion, 'Subject');
  const nameIdEls = subject ? childElements(subject, NS.assertion, 'NameID') : [];
  const nameId = nameIdEls.length === 1 ? textOf(nameIdEls[0] as Element).trim() : '';
  if (!nameId) throw rejected('SAML_NAMEID_MISSING', 'the assertion has no (single, non-empty) NameID');
  const nameIdFormat = nameIdEls[0]?.getAttribute('Format') || null;
  checkNameIdFormat(nameIdFormat, expect.nameIdFormat);

  const inResponseTo = checkBearer(subject, expect, now, skewMs);
  const conditionsLimit = checkConditions(assertion, expect, now, skewMs);

  return {
    issuer,
    assertionId,
    nameId,
    nameIdFormat,
    attributes: readAttributes(assertion),
    notOnOrAfter: new Date(Math.min(conditionsLimit, inResponseTo.notOnOrAfter) + skewMs),
    inResponseTo: inResponseTo.value,
  };
}

function checkNameIdFormat(received: string | null, expected: string | null): void {
  const format = received ?? UNSPECIFIED;
  // A transient NameID changes at every sign-in: as a username it would provision a new user each time.
  const ok = expected === null ? format !== TRANSIENT : format === expected;
  if (!ok) {
    throw rejected('SAML_NAMEID_FORMAT_MISMATCH', `the NameID format ${format} is not the one expected`, {
      expected: expected ?? `any but ${TRANSIENT}`,
      received: format,
    });
  }
}

/**
 * Every bearer SubjectConfirmation must be for our ACS, within its time window, and all must agree
 * on InResponseTo. Returns that InResponseTo and the earliest NotOnOrAfter.
 */
function checkBearer(
  subject: Element | undefined,
  expect: AssertionExpectations,
  now: number,
  skewMs: number,
): { value: string | null; notOnOrAfter: number } {
  const bearers = (subject ? childElements(subject, NS.assertion, 'SubjectConfirmation') : []).filter(
    (sc) => sc.getAttribute('Method') === BEARER,
  );
  if (bearers.length === 0)
    throw rejected('SAML_BEARER_INVALID', 'the assertion has no bearer SubjectConfirmation');
  const inResponseTo = new Set<string | null>();
  let earliest = Number.POSITIVE_INFINITY;
  for (const bearer of bearers) {
    const data = childElements(bearer, NS.assertion, 'SubjectConfirmationData');
    if (data.length !== 1) {
      throw rejected('SAML_BEARER_INVALID', 'a bearer SubjectConfirmation needs one SubjectConfirmationData');
    }
    const d = data[0] as Element;
    const recipient = d.getAttribute('Recipient') ?? '';
    if (recipient !== expect.acsUrl) {
      throw rejected(
        'SAML_RECIPIENT_MISMATCH',
        `SubjectConfirmationData Recipient is not this service's ACS URL`,
        {
          expected: expect.acsUrl,
          received: recipient,
        },
      );
    }
    // The Web SSO profile requires NotOnOrAfter on bearer confirmations: without one it never expires.
    const notOnOrAfter = Date.parse(d.getAttribute('NotOnOrAfter') ?? '');
    if (!Number.isFinite(notOnOrAfter)) {
      throw rejected('SAML_BEARER_INVALID', 'the bearer SubjectConfirmationData has no valid NotOnOrAfter');
    }
    checkWindow(d, now, skewMs, 'the subject confirmation');
    earliest = Math.min(earliest, notOnOrAfter);
    inResponseTo.add(d.getAttribute('InResponseTo') || null);
  }
  if (inResponseTo.size > 1) {
    throw rejected('SAML_IN_RESPONSE_TO_MISMATCH', 'the bearer confirmations disagree on InResponseTo');
  }
  return { value: [...inResponseTo][0] ?? null, notOnOrAfter: earliest };
}

/** One Conditions, its window, and every AudienceRestriction naming us. Returns its NotOnOrAfter. */
function checkConditions(
  assertion: Element,
  expect: AssertionExpectations,
  now: number,
  skewMs: number,
): number {
  const all = childElements(assertion, NS.assertion, 'Conditions');
  if (all.length > 1) throw rejected('SAML_INVALID', 'the assertion has several Conditions');
  const conditions = all[0];
  const restrictions = conditions ? childElements(conditions, NS.assertion, 'AudienceRestriction') : [];
  // Each restriction must be satisfied on its own (SAML core 2.5.1.4); none at all means "anyone".
  const forUs = (r: Element) =>
    childElements(r, NS.assertion, 'Audience').some((a) => textOf(a).trim() === expect.spEntityId);
  if (restrictions.length === 0 || !restrictions.every(forUs)) {
    throw rejected('SAML_AUDIENCE_MISMATCH', 'the assertion audience does not include this service', {
      expected: expect.spEntityId,
    });
  }
  if (!conditions) return Number.POSITIVE_INFINITY;
  checkWindow(conditions, now, skewMs, 'the assertion');
  const notOnOrAfter = Date.parse(conditions.getAttribute('NotOnOrAfter') ?? '');
  return Number.isFinite(notOnOrAfter) ? notOnOrAfter : Number.POSITIVE_INFINITY;
}

function checkWindow(el: Element, now: number, skewMs: number, what: string): void {
  for (const name of ['NotBefore', 'NotOnOrAfter']) {
    const raw = el.getAttribute(name);
    if (raw !== null && raw !== '' && !Number.isFinite(Date.parse(raw))) {
      throw rejected('SAML_INVALID', `${what} has an unreadable ${name}`);
    }
  }
  const notOnOrAfter = Date.parse(el.getAttribute('NotOnOrAfter') ?? '');
  if (Number.isFinite(notOnOrAfter) && now >= notOnOrAfter + skewMs) {
    throw rejected('SAML_ASSERTION_EXPIRED', `${what} has expired (NotOnOrAfter)`);
  }
  const notBefore = Date.parse(el.getAttribute('NotBefore') ?? '');
  if (Number.isFinite(notBefore) && now < notBefore - skewMs) {
    throw rejected('SAML_ASSERTION_NOT_YET_VALID', `${what} is not yet valid (NotBefore)`);
  }
}

export function readAttributes(assertion: Element): Record<string, string[]> {
  const attributes: Record<string, string[]> = Object.create(null);
  for (const statement of childElements(assertion, NS.assertion, 'AttributeStatement')) {
    for (const attr of childElements(statement, NS.assertion, 'Attribute')) {
      const name = attr.getAttribute('Name') ?? '';
      if (!name) continue;
      const values = childElements(attr, NS.assertion, 'AttributeValue')
        .filter((v) => v.getAttributeNS(XSI, 'nil') !== 'true')
        .map(textOf);
      attributes[name] = [...(attributes[name] ?? []), ...values];
    }
  }
  return attributes;
}
