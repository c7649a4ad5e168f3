import { wrap } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Context } from '../graphql/context.js';
import { AdminAuditEvent } from './admin-audit.entity.js';

export interface AdminChange<T> {
  result: T;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

/** Plain JSON of an entity (or anything) for the audit row; secrets never reach here. */
export const snapshot = (value: unknown): unknown =>
  value && typeof value === 'object' && '__helper' in (value as object)
    ? wrap(value as object).toPOJO()
    : JSON.parse(JSON.stringify(value ?? null));

export const actorOf = (ctx: Context): string =>
  ctx.auth.kind === 'admin'
    ? ctx.auth.tokenName === null
      ? 'admin-token'
      : `token:${ctx.auth.tokenName}`
    : ctx.auth.kind === 'user'
      ? `user:${ctx.auth.userId}`
      : 'anonymous';

/**
 * Runs an admin change and its audit row in one transaction. `change` gets the transaction's
 * EntityManager and says what it changed; a refusal (thrown) writes neither.
 */
export async function adminChange<T>(
  ctx: Context,
  action: string,
  change: (em: EntityManager) => Promise<AdminChange<T>>,
): Promise<T> {
  return ctx.em.transactional(async (em) => {
    const c = await change(em);
    em.create(AdminAuditEvent, {
      actor: actorOf(ctx),
      action,
      targetType: c.targetType,
      targetId: c.targetId,
      before: c.before === undefined ? null : snapshot(c.before),
      after: c.after === undefined ? null : snapshot(c.after),
    });
    await em.flush();
    return c.result;
  });
}
