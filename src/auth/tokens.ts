import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Session tokens (sign-ins) and named admin API tokens are told apart by their prefix. */
export const SESSION_TOKEN_PREFIX = 'jps_';
export const ADMIN_TOKEN_PREFIX = 'jpa_';
/** SCIM bearer tokens (src/scim), looked up by their hash like the others. */
export const SCIM_TOKEN_PREFIX = 'jpscim_';

/** An opaque bearer token (a session's, or with another prefix an API token's); only its SHA-256 is ever stored. */
export function newSessionToken(prefix: string = SESSION_TOKEN_PREFIX): { token: string; hash: string } {
  const token = `${prefix}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
