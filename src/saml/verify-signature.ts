/**
 * Signature verification for SAML responses, with xml-crypto's algorithms (the library node-saml
 * verifies with): keys parsed once per connection, the document not parsed again. Only ever called
 * on signatures the structural guard has accepted.
 *
 * Two paths reach the same verdict on the same bytes (test/saml-verify-signature.test.ts holds them
 * to it). The signature every SAML IdP makes — exclusive C14N over SignedInfo, an enveloped
 * signature over its own parent, transforms enveloped-signature then exclusive C14N — is verified
 * on the element the signature sits in, with xml-crypto's canonicalization, digest and signature
 * classes. Any other shape goes through xml-crypto's `SignedXml.checkSignature`, which parses the
 * document again and finds the referenced element by XPath over it: most of a validation's cost.
 */
import { type KeyObject, timingSafeEqual } from 'node:crypto';
import { ExclusiveCanonicalization, SignedXml } from 'xml-crypto';
import { findAncestorNsForElement } from 'xml-crypto/lib/utils.js';
import { AppError } from '../errors.js';
import { ENVELOPED, EXC_C14N, isSignature } from './signature-guard.js';
import { elementChildren, NS, parseStrictXml, textOf } from './xml.js';

const rejected = (code: 'SAML_SIGNATURE_INVALID' | 'SAML_SIGNATURE_MALFORMED', message: string) =>
  new AppError(code, `SAML response rejected: ${message}`);
const unprocessable = () => rejected('SAML_SIGNATURE_MALFORMED', 'the signature could not be processed');
const digestMismatch = () => rejected('SAML_SIGNATURE_INVALID', 'a digest does not match the signed content');
const noKey = () =>
  rejected('SAML_SIGNATURE_INVALID', 'signature is not valid for any of the connection certificates');

/** The element's own enveloped ds:Signature (the guard allows at most one), or null. */
export const signatureOf = (owner: Element): Element | null =>
  elementChildren(owner).find(isSignature) ?? null;

/**
 * Verifies one guarded signature on `xml` (the text `signature` was parsed from) against each
 * pinned key in turn, and returns the canonical bytes its one Reference covers. Digests are
 * computed first (a mismatch fails whatever the key), then the SignatureValue over SignedInfo; a
 * key is never taken from KeyInfo.
 */
export function verifySignature(xml: string, signature: Element, keys: readonly KeyObject[]): string {
  return isEnvelopedExcC14n(signature)
    ? verifyEnveloped(signature, keys)
    : verifyWithSignedXml(xml, signature, keys);
}

// xml-crypto's algorithm registries (public, per instance): HMAC is not among them.
const algorithms = new SignedXml();

const dsChildren = (parent: Element, localName: string): Element[] =>
  elementChildren(parent).filter((el) => el.namespaceURI === NS.ds && el.localName === localName);

/** The one ds child called `localName`, or null when there is none or several. */
const dsOnly = (parent: Element, localName: string): Element | null => {
  const found = dsChildren(parent, localName);
  return found.length === 1 ? (found[0] as Element) : null;
};

interface ReferenceShape {
  uri: string | null;
  c14n: string | null;
  transforms: string[];
}

function shapeOf(signedInfo: Element): ReferenceShape | null {
  const reference = dsOnly(signedInfo, 'Reference');
  if (!reference) return null;
  const transforms = dsChildren(reference, 'Transforms').flatMap((t) => dsChildren(t, 'Transform'));
  return {
    uri: reference.getAttribute('URI'),
    c14n: dsOnly(signedInfo, 'CanonicalizationMethod')?.getAttribute('Algorithm') ?? null,
    transforms: transforms.map((t) => t.getAttribute('Algorithm') ?? ''),
  };
}

const isFastShape = (shape: ReferenceShape | null, owner: Element): boolean => {
  const id = owner.getAttribute('ID');
  return (
    shape !== null &&
    // xml-crypto's exclusive C14N takes a PrefixList from a CanonicalizationMethod child of the
    // element it is given when none is passed: an element with one gets the library's own path.
    !elementChildren(owner).some((el) => el.localName === 'CanonicalizationMethod') &&
    !!id &&
    shape.uri === `#${id}` &&
    shape.c14n === EXC_C14N &&
    shape.transforms.length === 2 &&
    shape.transforms[0] === ENVELOPED &&
    shape.transforms[1] === EXC_C14N
  );
};

/** The shape the fast path verifies, read from the posted (not yet trusted) SignedInfo. */
export function isEnvelopedExcC14n(signature: Element): boolean {
  const owner = signature.parentNode;
  const signedInfo = dsOnly(signature, 'SignedInfo');
  if (!signedInfo || !owner || owner.nodeType !== 1) return false;
  return isFastShape(shapeOf(signedInfo), owner as Element);
}

/**
 * Exclusive C14N as xml-crypto applies it: of `target` (`node` itself or a copy of it), with the
 * namespaces `node`'s ancestors declare at hand for the InclusiveNamespaces PrefixList.
 */
function excC14n(
  node: Element,
  target: Element,
  inclusiveNamespacesPrefixList: string[] | undefined,
): string {
  return new ExclusiveCanonicalization().process(target, {
    inclusiveNamespacesPrefixList,
    ancestorNamespaces: findAncestorNsForElement(node),
    defaultNsForPrefix: SignedXml.defaultNsForPrefix,
  });
}

/**
 * The enveloped-signature transform then exclusive C14N, on the element itself: the signature is
 * taken out for the canonicalization and put back where it was. Exclusive C14N writes the listed
 * prefixes' declarations onto the element it is given, so with a PrefixList it gets a copy (a deep
 * copy of an assertion costs more than all the rest of the verification, hence not always).
 */
function withoutSignature(owner: Element, signature: Element, prefixList: string[]): string {
  if (prefixList.length > 0) {
    const copy = owner.cloneNode(true) as Element;
    const index = Array.prototype.indexOf.call(owner.childNodes, signature);
    copy.removeChild(copy.childNodes.item(index));
    return excC14n(owner, copy, prefixList);
  }
  const next = signature.nextSibling;
  owner.removeChild(signature);
  try {
    return excC14n(owner, owner, prefixList);
  } finally {
    owner.insertBefore(signature, next);
  }
}

/**
 * The fast path: SignedInfo canonicalized and read back from its canonical bytes (what the
 * SignatureValue signs), the parent canonicalized without this signature (the enveloped-signature
 * transform), its digest compared, then the SignatureValue checked per key.
 */
function verifyEnveloped(signature: Element, keys: readonly KeyObject[]): string {
  const owner = signature.parentNode as Element;
  const postedSignedInfo = dsOnly(signature, 'SignedInfo') as Element;
  const signatureValueEl = dsOnly(signature, 'SignatureValue');
  if (!signatureValueEl) throw unprocessable();
  const signatureValue = textOf(signatureValueEl).replace(/\s+/g, '');

  let canonicalSignedInfo: string;
  let canonicalOwner: string;
  let digestValue: string;
  let digestMethod: string;
  let signatureMethod: string;
  try {
    canonicalSignedInfo = excC14n(postedSignedInfo, postedSignedInfo.cloneNode(true) as Element, undefined);
    // Everything below is read from the canonical SignedInfo: the bytes the SignatureValue covers.
    const signedInfo = parseStrictXml(canonicalSignedInfo)?.documentElement;
    if (!signedInfo || signedInfo.namespaceURI !== NS.ds || signedInfo.localName !== 'SignedInfo') {
      throw unprocessable();
    }
    if (!isFastShape(shapeOf(signedInfo), owner)) throw unprocessable();
    const reference = dsOnly(signedInfo, 'Reference') as Element;
    const lastTransform = dsChildren(dsOnly(reference, 'Transforms') as Element, 'Transform')[1] as Element;
    const prefixList = elementChildren(lastTransform)
      .filter((el) => el.localName === 'InclusiveNamespaces')
      .flatMap((el) => (el.getAttribute('PrefixList') ?? '').split(' '))
      .filter((prefix) => prefix.length > 0);
    digestMethod = dsOnly(reference, 'DigestMethod')?.getAttribute('Algorithm') ?? '';
    const digestValueEl = dsOnly(reference, 'DigestValue');
    if (!digestValueEl) throw unprocessable();
    digestValue = textOf(digestValueEl);
    signatureMethod = dsOnly(signedInfo, 'SignatureMethod')?.getAttribute('Algorithm') ?? '';

    canonicalOwner = withoutSignature(owner, signature, prefixList);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw unprocessable();
  }
  const Hash = algorithms.HashAlgorithms[digestMethod as keyof typeof algorithms.HashAlgorithms];
  const Signer =
    algorithms.SignatureAlgorithms[signatureMethod as keyof typeof algorithms.SignatureAlgorithms];
  if (!Hash || !Signer || !digestValue) throw unprocessable();
  if (!sameDigest(new Hash().getHash(canonicalOwner), digestValue)) throw digestMismatch();
  const signer = new Signer();
  for (const key of keys) {
    let valid = false;
    try {
      valid = signer.verifySignature(canonicalSignedInfo, key, signatureValue);
    } catch {
      // A key of another type than the algorithm's: this key cannot have made the signature.
    }
    if (valid) return canonicalOwner;
  }
  throw noKey();
}

/** Both base64; compared as bytes (as xml-crypto 6.3 advises), so whitespace in DigestValue is no mismatch. */
function sameDigest(computed: string, claimed: string): boolean {
  const a = Buffer.from(computed, 'base64');
  const b = Buffer.from(claimed, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Any other shape: xml-crypto's own `checkSignature`, which parses `xml` again. */
export function verifyWithSignedXml(xml: string, signature: Element, keys: readonly KeyObject[]): string {
  for (const key of keys) {
    const sig = new SignedXml({ publicCert: key, getCertFromKeyInfo: () => null });
    let valid: boolean;
    try {
      sig.loadSignature(signature);
      valid = sig.checkSignature(xml);
    } catch (e) {
      // A wrong key is the only failure another key can fix (certificate rollover).
      if (e instanceof Error && e.message.startsWith('invalid signature:')) continue;
      throw unprocessable();
    }
    if (!valid) throw digestMismatch();
    const references = sig.getSignedReferences();
    if (references.length !== 1) {
      throw rejected('SAML_SIGNATURE_MALFORMED', 'a signature must cover exactly one reference');
    }
    return references[0] as string;
  }
  throw noKey();
}
