import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import { AdminAuditEvent } from './admin-audit.entity.js';

/** Refusals written per minute and process at most; past it they are counted, and the count logged. */
const PER_MINUTE = 120;

/**
 * The audit rows of refused requests that no provisioning event describes: an unknown or expired
 * token, a GraphQL document over its limits. Bounded, so that a flood of bad requests cannot turn
 * into a flood of writes: past PER_MINUTE a minute, they are counted and the count logged instead.
 * Never the token or the document: the code, the message (which names the cause) and the request id.
 */
export function createRefusalLog(deps: { orm: MikroORM; logger: Logger }) {
  let windowStart = 0;
  let written = 0;
  let dropped = 0;

  function record(r: { code: ErrorCode; message: string; requestId: string | null }): void {
    const now = Date.now();
    if (now - windowStart >= 60_000) {
      if (dropped > 0)
        deps.logger.warn({ dropped }, 'refused requests not written to the audit log (rate cap)');
      windowStart = now;
      written = 0;
      dropped = 0;
    }
    if (written >= PER_MINUTE) {
      dropped++;
      return;
    }
    written++;
    deps.orm.em
      .fork()
      .insert(AdminAuditEvent, {
        actor: 'anonymous',
        action: 'request.refused',
        targetType: 'Request',
        targetId: r.requestId,
        after: { code: r.code, message: r.message },
      })
      .catch((err: unknown) => deps.logger.warn({ err, code: r.code }, 'could not record a refused request'));
  }

  return { record };
}
export type RefusalLog = ReturnType<typeof createRefusalLog>;
