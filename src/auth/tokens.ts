import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An opaque bearer token; only its SHA-256 is ever stored. */
export function newSessionToken(): { token: string; hash: string } {
  const token = `jps_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashToken(token) };
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two secrets of any length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
