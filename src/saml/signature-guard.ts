import { AppError, type ErrorCode } from '../errors.js';
import { descendants, elementChildren, NS } from './xml.js';

/**
 * Structural checks on the still-untrusted document, before any signature is verified. They do
 * not replace verification (values are only ever read from the verified bytes); they refuse, with
 * a precise code, every shape that has no legitimate use and is how signature wrapping (XSW),
 * stripping and algorithm downgrades are built: misplaced or duplicated assertions, duplicate IDs,
 * signatures anywhere but on the Response or its assertion, references that do not point at their
 * own parent, several SignedInfo/References, and weak or keyed-hash algorithms.
 */

export interface SignaturePolicy {
  /** Accept rsa-sha1 signatures and sha1 digests (per-connection opt-in for legacy IdPs). */
  allowSha1: boolean;
  /** The Response itself must carry a signature too. */
  wantResponseSigned: boolean;
}

/** What the guard found where the protocol puts it. */
export interface GuardedResponse {
  /** The one samlp:Response/saml:Assertion, or null when the assertion is encrypted. */
  assertion: Element | null;
  /** The one samlp:Response/saml:EncryptedAssertion, or null. */
  encryptedAssertion: Element | null;
}

const SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1',
]);
const DIGEST_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
export const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const CANONICALIZATIONS = new Set([
  EXC_C14N,
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
]);
export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
// xml-crypto resolves references through any of these attribute names.
const ID_ATTRIBUTES = new Set(['ID', 'Id', 'id']);
const ASSERTION_NAMES = new Set(['Assertion', 'EncryptedAssertion']);

const fail = (code: ErrorCode, message: string): never => {
  throw new AppError(code, `SAML response rejected: ${message}`);
};

export const isSignature = (el: Element): boolean =>
  el.namespaceURI === NS.ds && el.localName === 'Signature';

/** Checks a samlp:Response document and returns its single (plain or encrypted) assertion. */
export function guardResponse(root: Element, policy: SignaturePolicy): GuardedResponse {
  const top = elementChildren(root);
  // By local name in any namespace, as SAML libraries select assertions: a stray one is refused.
  const assertions = top.filter((el) => ASSERTION_NAMES.has(el.localName ?? ''));
  checkPlacement(root, new Set(assertions));
  checkUniqueIds(root);
  if (assertions.length > 1) fail('SAML_MULTIPLE_ASSERTIONS', 'the response carries more than one assertion');
  const [only] = assertions;
  if (!only) return fail('SAML_ASSERTION_MISSING', 'the response carries no assertion');
  if (only.namespaceURI !== NS.assertion) {
    fail('SAML_SIGNATURE_WRAPPING', 'the assertion is not in the SAML assertion namespace');
  }
  checkSignatureOf(root, policy, policy.wantResponseSigned);
  if (only.localName === 'EncryptedAssertion') return { assertion: null, encryptedAssertion: only };
  checkSignatureOf(only, policy, true);
  return { assertion: only, encryptedAssertion: null };
}

/** Checks a decrypted assertion the way a plain one is checked inside its Response. */
export function guardDecryptedAssertion(assertion: Element, policy: SignaturePolicy): void {
  checkPlacement(assertion, new Set());
  checkUniqueIds(assertion);
  checkSignatureOf(assertion, policy, true);
}

/**
 * No Response or assertion below the expected ones (XSW copies hide in Extensions, Advice, ds:Object
 * or a nested Response), no ds:Object at all (SAML signatures carry none), and signatures only as
 * direct children of the Response or its assertion.
 */
function checkPlacement(root: Element, expectedAssertions: Set<Element>): void {
  for (const el of descendants(root)) {
    const name = el.localName ?? '';
    if (name === 'Response' || (ASSERTION_NAMES.has(name) && !expectedAssertions.has(el))) {
      fail('SAML_SIGNATURE_WRAPPING', `a ${name} element appears where the protocol puts none`);
    }
    if (el.namespaceURI === NS.ds && name === 'Object') {
      fail('SAML_SIGNATURE_WRAPPING', 'a signature carries a ds:Object');
    }
    if (isSignature(el)) {
      const parent = el.parentNode as Element | null;
      if (parent !== root && !(parent && expectedAssertions.has(parent))) {
        fail('SAML_SIGNATURE_WRAPPING', 'a signature appears outside the Response and its assertion');
      }
    }
  }
}

/** A duplicated ID lets a reference resolve to a copy instead of the element it signs. */
function checkUniqueIds(root: Element): void {
  const seen = new Set<string>();
  for (const el of [root, ...descendants(root)]) {
    for (let i = 0; i < el.attributes.length; i++) {
      const attr = el.attributes.item(i);
      if (!attr || !ID_ATTRIBUTES.has(attr.localName ?? attr.name)) continue;
      if (seen.has(attr.value)) fail('SAML_SIGNATURE_WRAPPING', `the ID "${attr.value}" appears twice`);
      seen.add(attr.value);
    }
  }
}

function checkSignatureOf(owner: Element, policy: SignaturePolicy, required: boolean): void {
  const signatures = elementChildren(owner).filter(isSignature);
  const what = owner.localName === 'Response' ? 'Response' : 'assertion';
  if (signatures.length > 1) fail('SAML_SIGNATURE_MALFORMED', `the ${what} carries several signatures`);
  const [signature] = signatures;
  if (!signature) {
    if (required) fail('SAML_SIGNATURE_MISSING', `the ${what} is not signed`);
    return;
  }
  const signedInfo = only(signature, 'SignedInfo', `the ${what} signature`);
  only(signature, 'SignatureValue', `the ${what} signature`);
  const reference = only(signedInfo, 'Reference', `the ${what} SignedInfo`);
  const c14n = only(signedInfo, 'CanonicalizationMethod', `the ${what} SignedInfo`);
  if (!CANONICALIZATIONS.has(c14n.getAttribute('Algorithm') ?? '')) {
    fail('SAML_SIGNATURE_MALFORMED', `the ${what} signature uses an unknown canonicalization`);
  }
  const method =
    only(signedInfo, 'SignatureMethod', `the ${what} SignedInfo`).getAttribute('Algorithm') ?? '';
  if (!(SIGNATURE_ALGORITHMS.has(method) || (policy.allowSha1 && method === RSA_SHA1))) {
    fail('SAML_SIGNATURE_ALGORITHM_FORBIDDEN', `signature algorithm ${method || '(none)'} is not allowed`);
  }
  const digest = only(reference, 'DigestMethod', `the ${what} Reference`).getAttribute('Algorithm') ?? '';
  if (!(DIGEST_ALGORITHMS.has(digest) || (policy.allowSha1 && digest === SHA1))) {
    fail('SAML_SIGNATURE_ALGORITHM_FORBIDDEN', `digest algorithm ${digest || '(none)'} is not allowed`);
  }
  const id = owner.getAttribute('ID') ?? '';
  if (id === '' || reference.getAttribute('URI') !== `#${id}`) {
    fail('SAML_SIGNATURE_WRAPPING', `the ${what} signature does not reference the ${what} it is on`);
  }
  const transforms = elementChildren(reference)
    .filter((el) => el.namespaceURI === NS.ds && el.localName === 'Transforms')
    .flatMap((t) => elementChildren(t));
  const allowed = (t: Element) =>
    t.namespaceURI === NS.ds &&
    t.localName === 'Transform' &&
    [ENVELOPED, ...CANONICALIZATIONS].includes(t.getAttribute('Algorithm') ?? '');
  if (transforms.length > 2 || !transforms.every(allowed)) {
    fail('SAML_SIGNATURE_MALFORMED', `the ${what} signature has transforms SAML does not use`);
  }
}

/** The single ds child called `localName`; none or several is a malformed signature. */
function only(parent: Element, localName: string, where: string): Element {
  const found = elementChildren(parent).filter(
    (el) => el.namespaceURI === NS.ds && el.localName === localName,
  );
  if (found.length !== 1) {
    fail('SAML_SIGNATURE_MALFORMED', `${where} has ${found.length} ${localName} elements, not one`);
  }
  return found[0] as Element;
}
