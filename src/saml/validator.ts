import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { AppError, type ErrorCode } from '../errors.js';
import {
  type AssertionExpectations,
  checkAssertion,
  readVerifiedAssertion,
  type ValidatedAssertion,
} from './assertion.js';
import type { IdpConnection } from './connection.entity.js';
import { inspectEncryptedAssertion } from './encrypted.js';
import type { IncomingResponse } from './incoming.js';
import { guardResponse } from './signature-guard.js';
import type { SpKeyStore } from './sp-keys.js';

export type { ValidatedAssertion } from './assertion.js';

export interface SamlValidatorOptions {
  spEntityId: string;
  acsUrl: string;
  /** The SP decryption key, fetched only when a response carries an EncryptedAssertion. */
  spKeys: SpKeyStore;
}

export type ConnectionTrust = Pick<
  IdpConnection,
  | 'id'
  | 'entityId'
  | 'certificates'
  | 'wantResponseSigned'
  | 'clockSkewSeconds'
  | 'nameIdFormat'
  | 'allowSha1'
>;

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/**
 * The steps, in order: status; the structural guard on the untrusted document (wrapping, stripping,
 * algorithms); for an encrypted assertion the same guard on what it decrypts to; node-saml's
 * verification against the connection's pinned certificates only (KeyInfo in the message is never
 * used); then every check node-saml leaves to us, on the verified assertion bytes it returns.
 */
export function createSamlValidator(opts: SamlValidatorOptions) {
  // One node-saml instance per connection trust, so certificates are parsed once, not per response.
  const instances = new Map<string, { version: string; saml: SAML }>();

  function samlFor(conn: ConnectionTrust, decryptionPvk: string | null): SAML {
    const key = `${conn.id}:${decryptionPvk ? 'decrypting' : 'plain'}`;
    const version = JSON.stringify([
      conn.certificates.map((c) => c.fingerprintSha256),
      conn.wantResponseSigned,
      conn.clockSkewSeconds,
    ]);
    const hit = instances.get(key);
    if (hit && hit.version === version) return hit.saml;
    const saml = new SAML({
      idpCert: conn.certificates.map((c) => c.pem),
      issuer: opts.spEntityId,
      audience: opts.spEntityId,
      callbackUrl: opts.acsUrl,
      wantAssertionsSigned: true,
      wantAuthnResponseSigned: conn.wantResponseSigned,
      acceptedClockSkewMs: conn.clockSkewSeconds * 1000,
      // InResponseTo is ours to check, on the signed SubjectConfirmationData and in PostgreSQL.
      validateInResponseTo: ValidateInResponseTo.never,
      ...(decryptionPvk ? { decryptionPvk } : {}),
    });
    instances.set(key, { version, saml });
    return saml;
  }

  async function validate(conn: ConnectionTrust, incoming: IncomingResponse): Promise<ValidatedAssertion> {
    // node-saml accepts a signed assertion whatever the Response status says.
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
    const policy = { allowSha1: conn.allowSha1, wantResponseSigned: conn.wantResponseSigned };
    const root = incoming.doc.documentElement as Element;
    const { assertion: plain, encryptedAssertion } = guardResponse(root, policy);
    let decryptionPvk: string | null = null;
    let unverified = plain;
    if (encryptedAssertion) {
      decryptionPvk = (await opts.spKeys.get()).decryption.privateKeyPem;
      unverified = await inspectEncryptedAssertion(encryptedAssertion, decryptionPvk, policy);
    }
    const expect: AssertionExpectations = {
      entityId: conn.entityId,
      spEntityId: opts.spEntityId,
      acsUrl: opts.acsUrl,
      skewSeconds: conn.clockSkewSeconds,
      nameIdFormat: conn.nameIdFormat ?? null,
    };
    // Only to refuse with a precise code; nothing read here is used.
    if (unverified) checkAssertion(unverified, expect);

    let assertionXml: string;
    try {
      const { profile } = await samlFor(conn, decryptionPvk).validatePostResponseAsync({
        SAMLResponse: incoming.base64,
      });
      if (!profile) throw new AppError('SAML_ASSERTION_MISSING', 'SAML response carries no assertion');
      // The assertion as verified: canonical signed bytes, not a node of the posted document.
      assertionXml = profile.getAssertionXml?.() ?? '';
    } catch (e) {
      throw e instanceof AppError ? e : fromNodeSaml(e);
    }
    const assertion = readVerifiedAssertion(assertionXml, expect);
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
/**
 * What the ACS needs of a validator. A validator that parses the response itself (the worker pool)
 * also takes it still encoded, so the main thread need not parse it just to route it.
 */
export interface SamlValidator {
  validate(conn: ConnectionTrust, incoming: IncomingResponse): Promise<ValidatedAssertion>;
  validateEncoded?(conn: ConnectionTrust, base64: string): Promise<ValidatedAssertion>;
}

// After the guard, what node-saml still refuses is mostly the cryptography itself.
const NODE_SAML_ERRORS: [RegExp, ErrorCode, string][] = [
  [/decrypt|EncryptedAssertion/i, 'SAML_DECRYPTION_FAILED', 'the encrypted assertion could not be decrypted'],
  [/signature/i, 'SAML_SIGNATURE_INVALID', 'signature is not valid for any of the connection certificates'],
  [/audience mismatch/i, 'SAML_AUDIENCE_MISMATCH', 'assertion audience does not include this service'],
  [/^Error parsing/, 'SAML_INVALID', 'a NotBefore, NotOnOrAfter or IssueInstant is missing or unreadable'],
  [/not yet valid/i, 'SAML_ASSERTION_NOT_YET_VALID', 'assertion is not yet valid (NotBefore)'],
  [/expired/i, 'SAML_ASSERTION_EXPIRED', 'assertion has expired (NotOnOrAfter)'],
  [/provider returned|status/i, 'SAML_STATUS_NOT_SUCCESS', 'IdP returned a non-success status'],
  [/missing saml assertion/i, 'SAML_ASSERTION_MISSING', 'response carries no assertion'],
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
