const DAY_MS = 86_400_000;

export type CertStatus = { kind: 'ok' } | { kind: 'expiring'; days: number } | { kind: 'expired' };

/** A certificate needs attention when it has expired or expires within 30 days. */
export function certStatus(notAfter: string, now: Date = new Date()): CertStatus {
  const left = new Date(notAfter).getTime() - now.getTime();
  if (left <= 0) return { kind: 'expired' };
  if (left <= 30 * DAY_MS) return { kind: 'expiring', days: Math.ceil(left / DAY_MS) };
  return { kind: 'ok' };
}

export function certBadgeText(status: CertStatus): string | null {
  if (status.kind === 'expired') return 'Expired';
  if (status.kind === 'expiring') return `Expires in ${status.days} day${status.days === 1 ? '' : 's'}`;
  return null;
}
