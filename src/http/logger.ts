import { type Logger, pino } from 'pino';

/** SQL in driver errors carries the row's values (names, emails): keep the statement, drop the values. */
const scrub = (text: string): string =>
  text.replace(/'(?:[^']|'')*'/g, "'…'").replace(/jps_[A-Za-z0-9_-]+/g, 'jps_…');

function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const o = err as Error & { code?: unknown; cause?: unknown };
  return {
    type: o.name,
    code: typeof o.code === 'string' ? o.code : undefined,
    message: scrub(o.message),
    stack: o.stack ? scrub(o.stack) : undefined,
    cause: o.cause && depth < 3 ? serializeError(o.cause, depth + 1) : undefined,
  };
}

/**
 * The service's structured logger. Secrets and personal data never reach it by design (no bodies,
 * no headers, no SAML responses are logged); what could carry them anyway is redacted here.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'SAMLResponse',
        '*.SAMLResponse',
        'sessionToken',
        '*.sessionToken',
      ],
      censor: '[redacted]',
    },
    serializers: { err: (e: unknown) => serializeError(e) },
  };
  return destination ? pino(options, destination) : pino(options);
}
