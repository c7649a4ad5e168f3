import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../errors.js';
import {
  type AssertionExpectations,
  checkAssertion,
  readVerifiedAssertion,
  type ValidatedAssertion,
} from './assertion.js';
import { inspectEncryptedAssertion } from './encrypted.js';
import type { IncomingResponse } from './incoming.js';
import { guardResponse } from './signature-guard.js';
import { signatureOf, verifySignature } from './verify-signature.js';

export type { ValidatedAssertion } from './assertion.js';

/** Who the responses must be for: this service provider's entity id and ACS URL. */
export interface SpExpectations {
  spEntityId: string;
  acsUrl: string;
}

export type SamlValidatorOptions = SpExpectations;

/** What a connection trusts and expects of its IdP: plain data, so that it crosses to worker threads. */
export interface ConnectionTrust {
  id: string;
  entityId: string;
  /** Pinned signing certificates; the fingerprints tell when the parsed keys must be renewed. */
  certificates: readonly { pem: string; fingerprintSha256: string }[];
  wantResponseSigned: boolean;
  clockSkewSeconds: number;
  /** The NameID Format responses must carry; null = any but transient. */
  nameIdFormat?: string | null;
  allowSha1: boolean;
}

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/**
 * The steps, in order: status and Destination; the structural guard on the untrusted document
 * (wrapping, stripping, algorithms, one signature per signed element referencing that element);
 * for an encrypted assertion, decryption (once) and the same guard on what it decrypts to; then
 * each signature verified with xml-crypto's algorithms against the connection's pinned public keys
 * only (KeyInfo in the message is never used); then every SAML check, on the canonical bytes the
 * assertion signature covers, never on nodes of the posted document.
 *
 * This is what node-saml's validatePostResponseAsync does with the same xml-crypto, minus its work
 * done twice: it parses the document several times, re-reads certificates from PEM at every
 * response, converts the assertion to objects with xml2js, decrypts an encrypted assertion again
 * after the guard has, and lets xml-crypto parse it once more and search it by XPath for every
 * signature (verify-signature.ts verifies the shape IdPs make without that). Everything it checks
 * beyond the signatures, jitprov checks itself (and more strictly: see checkAssertion).
 */
export function createSamlValidator(opts: SamlValidatorOptions) {
  // Public keys parsed once per connection trust, not per response.
  const trusted = new Map<string, { version: string; keys: KeyObject[] }>();

  function keysFor(conn: ConnectionTrust): KeyObject[] {
    const version = conn.certificates.map((c) => c.fingerprintSha256).join(',');
    const hit = trusted.get(conn.id);
    if (hit && hit.version === version) return hit.keys;
    const keys = conn.certificates.map((c) => createPublicKey(c.pem));
    trusted.set(conn.id, { version, keys });
    return keys;
  }

  /** `decryptionKey`: the SP's key (PEM), needed only when the response carries an EncryptedAssertion. */
  async function validate(
    conn: ConnectionTrust,
    incoming: IncomingResponse,
    decryptionKey?: string,
  ): Promise<ValidatedAssertion> {
    if (incoming.status !== SUCCESS) {
      throw new AppError('SAML_STATUS_NOT_SUCCESS', 'IdP returned a non-success status', {
        status: incoming.status ?? 'missing',
      });
    }
    // Unsigned unless the Response is, so a cheap envelope check: the signed Recipient is checked too.
    if (incoming.destination !== null && incoming.destination !== opts.acsUrl) {
      throw new AppError('SAML_DESTINATION_MISMATCH', `Response Destination is not this service's ACS URL`, {
        expected: opts.acsUrl,
        received: incoming.destination,
      });
    }
    // A signed protocol message sent over HTTP-POST must name where it was sent (SAML bindings
    // 3.5.5.2): without a Destination, a Response signed for another SP could be replayed here.
    if (incoming.destination === null && signatureOf(incoming.doc.documentElement as Element)) {
      throw new AppError('SAML_DESTINATION_MISSING', 'the Response is signed but names no Destination', {
        expected: opts.acsUrl,
      });
    }
    const policy = { allowSha1: conn.allowSha1, wantResponseSigned: conn.wantResponseSigned };
    const root = incoming.doc.documentElement as Element;
    const guarded = guardResponse(root, policy);
    // The assertion and the text its signature is verified on: the posted document, or the plaintext.
    let unverified: Element;
    let assertionDocument: string;
    if (guarded.encryptedAssertion) {
      if (decryptionKey === undefined) {
        throw new AppError('SAML_DECRYPTION_FAILED', 'the encrypted assertion could not be decrypted');
      }
      const decrypted = await inspectEncryptedAssertion(guarded.encryptedAssertion, decryptionKey, policy);
      unverified = decrypted.assertion;
      assertionDocument = decrypted.xml;
    } else {
      unverified = guarded.assertion as Element;
      assertionDocument = incoming.xml;
    }
    const expect: AssertionExpectations = {
      entityId: conn.entityId,
      spEntityId: opts.spEntityId,
      acsUrl: opts.acsUrl,
      skewSeconds: conn.clockSkewSeconds,
      nameIdFormat: conn.nameIdFormat ?? null,
    };
    // Only to refuse with a precise code before any cryptography; nothing read here is used.
    checkAssertion(unverified, expect);

    const keys = keysFor(conn);
    // A Response signature is verified whenever present (the guard has required it where the
    // connection wants one): a present but broken signature is never ignored.
    const responseSignature = signatureOf(root);
    if (responseSignature) verifySignature(incoming.xml, responseSignature, keys);
    const assertionSignature = signatureOf(unverified) as Element;
    const signedAssertion = verifySignature(assertionDocument, assertionSignature, keys);
    const assertion = readVerifiedAssertion(signedAssertion, expect);
    if (assertion.assertionId !== unverified.getAttribute('ID')) {
      throw new AppError(
        'SAML_SIGNATURE_MALFORMED',
        'SAML response rejected: the signature covers another element than its assertion',
      );
    }
    // Response@InResponseTo is unsigned when only the assertion is: it may only agree with the signed one.
    if (incoming.inResponseTo !== null && incoming.inResponseTo !== assertion.inResponseTo) {
      throw new AppError(
        'SAML_IN_RESPONSE_TO_MISMATCH',
        'SAML response rejected: Response InResponseTo differs from the signed assertion',
      );
    }
    return assertion;
  }

  return { validate };
}
export type SamlValidator = ReturnType<typeof createSamlValidator>;
