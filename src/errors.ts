import type { z } from 'zod';
import { isConnectionFailure, isRetryable } from './db/errors.js';

/**
 * The one error catalog. Every expected failure carries a stable `code` (the API contract; clients
 * match on it, never on the message) and a safe `message` that names the cause. Translated at one
 * boundary each into GraphQL union members, HTTP responses and audit rows. Never put secret
 * material (keys, tokens, raw assertions) into a message or `details`.
 */
export const ErrorCodes = {
  // input
  VALIDATION_FAILED: 'validation failed',
  NOT_FOUND: 'not found',
  CONFLICT: 'conflict',
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  // GraphQL documents
  QUERY_TOO_DEEP: 'GraphQL document nests deeper than allowed',
  QUERY_TOO_MANY_ALIASES: 'GraphQL document has more aliases than allowed',
  QUERY_TOO_MANY_TOKENS: 'GraphQL document is longer than allowed',
  QUERY_TOO_COSTLY: 'GraphQL document would cost more than allowed',
  // IdP metadata
  METADATA_INVALID: 'IdP metadata could not be read',
  METADATA_NOT_IDP: 'metadata has no IdP descriptor',
  METADATA_NO_SIGNING_KEY: 'metadata has no signing certificate',
  // SAML input hygiene
  SAML_RESPONSE_TOO_LARGE: 'SAML response too large',
  SAML_RESPONSE_MALFORMED: 'SAML response malformed',
  SAML_DOCTYPE_FORBIDDEN: 'SAML response contains a DOCTYPE',
  SAML_RESPONSE_NOT_BASE64: 'SAMLResponse is not valid base64',
  SAML_RESPONSE_DEFLATED: 'SAMLResponse is deflated (HTTP-Redirect encoding) on the POST binding',
  SAML_RESPONSE_TRAILING_CONTENT: 'SAML response has content after its root element',
  // SAML routing and validation
  SAML_UNKNOWN_ISSUER: 'no connection for the issuer',
  SAML_SIGNATURE_INVALID: 'signature invalid',
  SAML_ISSUER_MISMATCH: 'issuer mismatch',
  SAML_AUDIENCE_MISMATCH: 'audience mismatch',
  SAML_DESTINATION_MISMATCH: 'destination mismatch',
  SAML_DESTINATION_MISSING: 'a signed Response names no Destination',
  SAML_RECIPIENT_MISMATCH: 'recipient mismatch',
  SAML_ASSERTION_EXPIRED: 'assertion expired',
  SAML_ASSERTION_NOT_YET_VALID: 'assertion not yet valid',
  SAML_STATUS_NOT_SUCCESS: 'IdP reported a failure',
  SAML_NAMEID_MISSING: 'NameID missing',
  SAML_REPLAY: 'assertion already used',
  SAML_INVALID: 'SAML response invalid',
  SAML_SIGNATURE_MISSING: 'a required signature is missing',
  SAML_SIGNATURE_MALFORMED: 'signature structure not allowed',
  SAML_SIGNATURE_WRAPPING: 'signed content moved or duplicated (signature wrapping)',
  SAML_SIGNATURE_ALGORITHM_FORBIDDEN: 'signature or digest algorithm not allowed',
  SAML_MULTIPLE_ASSERTIONS: 'response carries more than one assertion',
  SAML_ASSERTION_MISSING: 'response carries no assertion',
  SAML_BEARER_INVALID: 'no valid bearer subject confirmation',
  SAML_NAMEID_FORMAT_MISMATCH: 'NameID format not the one expected',
  SAML_IN_RESPONSE_TO_UNKNOWN: 'InResponseTo matches no outstanding request',
  SAML_IN_RESPONSE_TO_MISMATCH: 'InResponseTo values disagree',
  SAML_UNSOLICITED_RESPONSE: 'unsolicited response, IdP-initiated sign-in is off',
  SAML_DECRYPTION_FAILED: 'encrypted assertion could not be decrypted',
  SAML_ENCRYPTION_ALGORITHM_FORBIDDEN: 'encryption algorithm not allowed',
  SAML_RELAY_STATE_FORBIDDEN: 'RelayState is not an allowed redirect target',
  SAML_LOGIN_UNAVAILABLE: 'connection has no HTTP-Redirect SSO URL for SP-initiated sign-in',
  SAML_VALIDATION_TIMEOUT: 'SAML response validation overran its deadline; try again',
  // provisioning
  JIT_DISABLED: 'user unknown and JIT provisioning is off',
  USER_BLOCKED: 'user blocked',
  IDENTITY_KEY_MISSING: 'the attribute the connection binds people by is missing',
  LINK_REFUSED: 'an existing user may not be linked to this person',
  USERNAME_TAKEN: "the person's new username belongs to another user",
  USER_EXISTS: 'the user exists already',
  CONNECTION_DISABLED: 'connection disabled',
  MAPPING_INVALID: 'attribute mapping invalid',
  MAPPING_VALUE_INVALID: 'mapped value does not fit its column',
  REQUIRED_ATTRIBUTE_MISSING: 'required attribute missing',
  PLUGIN_NOT_FOUND: 'transform plugin not found',
  PLUGIN_PARAMS_INVALID: 'transform plugin parameters invalid',
  EXPRESSION_INVALID: 'transform expression does not compile',
  TRANSFORM_FAILED: 'transform plugin failed',
  TRANSFORM_TIMEOUT: 'transform plugin ran too long',
  PATTERN_UNSAFE: 'regular expression can backtrack catastrophically',
  MAPPING_DRY_RUN_FAILED: 'transform fails or runs away on typical input',
  MAPPING_WOULD_REFUSE: 'mapping change would refuse people who signed in fine',
  CONTACT_FIELD_INVALID: 'contact field definition invalid',
  CONTACT_FIELD_IN_USE: 'contact field is the target of an attribute mapping',
  // licenses
  LICENSE_SEATS_IN_USE: 'more seats are in use than the new limit',
  LICENSE_NO_SEAT: 'license has no free seat or is inactive',
  LICENSE_SEATS_EXHAUSTED: 'a license rule that refuses without a seat found none free',
  RULE_INVALID: 'license or role rule invalid',
  GROUPS_ATTRIBUTE_NOT_SEEN:
    'group rules for a connection whose recent sign-ins never carried its groups attribute (write them with force)',
  ROLE_BUILTIN: 'built-in role cannot be changed or removed',
  // infrastructure
  DATABASE_UNAVAILABLE: 'database unavailable',
  SHUTTING_DOWN: 'the server is shutting down',
  METRICS_UNAVAILABLE: 'the metrics could not be gathered (a cluster process not answering yet)',
  DATABASE_CONTENTION: 'concurrent transactions kept conflicting (serialization failures or deadlocks)',
  INTERNAL: 'internal error',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Details safe to show a client: the offending input path and plain facts, never secrets. */
export interface ErrorDetails {
  /** Path of the offending input, e.g. ['input', 'mappings', 2, 'column']. */
  path?: (string | number)[];
  [key: string]: unknown;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** HTTP status for the browser-facing routes. */
  get httpStatus(): number {
    return httpStatusOf(this.code);
  }

  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHENTICATED':
      return 401;
    case 'FORBIDDEN':
    case 'USER_BLOCKED':
    case 'JIT_DISABLED':
    case 'CONNECTION_DISABLED':
    case 'LINK_REFUSED':
    case 'LICENSE_SEATS_EXHAUSTED':
      return 403;
    case 'NOT_FOUND':
      return 404;
    case 'CONFLICT':
    case 'SAML_REPLAY':
    case 'USERNAME_TAKEN':
    case 'USER_EXISTS':
      return 409;
    case 'SAML_RESPONSE_TOO_LARGE':
      return 413;
    case 'DATABASE_UNAVAILABLE':
    case 'SAML_VALIDATION_TIMEOUT':
    case 'SHUTTING_DOWN':
    case 'DATABASE_CONTENTION':
    case 'METRICS_UNAVAILABLE':
      return 503;
    case 'INTERNAL':
      return 500;
    default:
      return 400;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;

/** Maps an unexpected error to the catalog: connection failures are typed, the rest is INTERNAL. */
export function asAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (isConnectionFailure(e)) {
    return new AppError(
      'DATABASE_UNAVAILABLE',
      'the database is unavailable; try again shortly',
      {},
      { cause: e },
    );
  }
  if (isRetryable(e)) {
    // Retried inside already (bounded): what is left is load, not a fault of the request.
    return new AppError(
      'DATABASE_CONTENTION',
      'the database kept aborting the sign-in under concurrent changes; try again shortly',
      {},
      { cause: e },
    );
  }
  return new AppError('INTERNAL', 'internal error', {}, { cause: e });
}

/** Parses an input with a zod guard; the first issue becomes a VALIDATION_FAILED naming its path. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  root: string[] = ['input'],
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = [...root, ...(issue?.path ?? []).map((p) => (typeof p === 'symbol' ? String(p) : p))];
  throw new AppError('VALIDATION_FAILED', `${path.join('.')}: ${issue?.message ?? 'invalid'}`, { path });
}
