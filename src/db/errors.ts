/** SQLSTATE of a driver error, whether raw pg or wrapped by MikroORM. */
export function sqlStateOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as { code?: unknown; sqlState?: unknown; cause?: unknown };
  if (typeof o.sqlState === 'string') return o.sqlState;
  if (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code)) return o.code;
  return o.cause ? sqlStateOf(o.cause) : undefined;
}

/** Serialization failure or deadlock: the whole transaction may simply be run again. */
export const isRetryable = (e: unknown): boolean => {
  const s = sqlStateOf(e);
  return s === '40001' || s === '40P01';
};

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
]);

/** The database is down or the connection was lost (not a fault of the request). */
export function isConnectionFailure(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const state = sqlStateOf(e);
  if (state && (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03'))
    return true;
  if (typeof o.code === 'string' && NETWORK_CODES.has(o.code)) return true;
  if (o.name === 'ConnectionException') return true;
  if (
    typeof o.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(o.message)
  ) {
    return true;
  }
  return o.cause ? isConnectionFailure(o.cause) : false;
}

/** A unique-constraint violation from PostgreSQL. */
export const isUniqueViolation = (e: unknown): boolean =>
  typeof e === 'object' &&
  e !== null &&
  ((e as { code?: unknown }).code === '23505' ||
    (e as { name?: unknown }).name === 'UniqueConstraintViolationException');
