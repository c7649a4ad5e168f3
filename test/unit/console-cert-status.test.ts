import { describe, expect, it } from 'vitest';
import { certBadgeText, certStatus } from '../../console/src/cert-status.js';

/** The console's certificate badge (issue 15): expired, or expiring within 30 days. */
describe('certificate expiry badge', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();

  it('says nothing for a certificate with more than 30 days left', () => {
    expect(certStatus(inDays(31), now)).toEqual({ kind: 'ok' });
    expect(certBadgeText(certStatus(inDays(400), now))).toBeNull();
  });

  it('warns from 30 days before expiry, counting whole days up', () => {
    expect(certBadgeText(certStatus(inDays(30), now))).toBe('Expires in 30 days');
    expect(certBadgeText(certStatus(inDays(0.5), now))).toBe('Expires in 1 day');
  });

  it('says expired at and after the instant it expires', () => {
    expect(certBadgeText(certStatus(now.toISOString(), now))).toBe('Expired');
    expect(certBadgeText(certStatus(inDays(-3), now))).toBe('Expired');
  });
});
