/**
 * Signature verification for SAML responses: xml-crypto (the library node-saml verifies with),
 * driven directly so that keys are parsed once per connection and the document is not parsed
 * again for every step. Only ever called on signatures the structural guard has accepted.
 */
import type { KeyObject } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { AppError } from '../errors.js';
import { isSignature } from './signature-guard.js';
import { elementChildren } from './xml.js';

const rejected = (code: 'SAML_SIGNATURE_INVALID' | 'SAML_SIGNATURE_MALFORMED', message: string) =>
  new AppError(code, `SAML response rejected: ${message}`);

/** The element's own enveloped ds:Signature (the guard allows at most one), or null. */
export const signatureOf = (owner: Element): Element | null =>
  elementChildren(owner).find(isSignature) ?? null;

/**
 * Verifies one guarded signature on `xml` (the text `signature` was parsed from) against each
 * pinned key in turn, and returns the canonical bytes its one Reference covers. xml-crypto computes
 * the digests first (a mismatch fails whatever the key), then the SignatureValue over SignedInfo;
 * it never takes a key from KeyInfo here.
 */
export function verifySignature(xml: string, signature: Element, keys: readonly KeyObject[]): string {
  for (const key of keys) {
    const sig = new SignedXml({ publicCert: key, getCertFromKeyInfo: () => null });
    let valid: boolean;
    try {
      sig.loadSignature(signature);
      valid = sig.checkSignature(xml);
    } catch (e) {
      // A wrong key is the only failure another key can fix (certificate rollover).
      if (e instanceof Error && e.message.startsWith('invalid signature:')) continue;
      throw rejected('SAML_SIGNATURE_MALFORMED', 'the signature could not be processed');
    }
    if (!valid) throw rejected('SAML_SIGNATURE_INVALID', 'a digest does not match the signed content');
    const references = sig.getSignedReferences();
    if (references.length !== 1) {
      throw rejected('SAML_SIGNATURE_MALFORMED', 'a signature must cover exactly one reference');
    }
    return references[0] as string;
  }
  throw rejected('SAML_SIGNATURE_INVALID', 'signature is not valid for any of the connection certificates');
}
