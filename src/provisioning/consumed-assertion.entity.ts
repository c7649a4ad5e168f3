import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * An (issuer, assertion id) accepted once. Kept until the assertion could no longer validate anyway
 * (its NotOnOrAfter plus the clock skew); the primary key is the replay guard across processes.
 */
export const ConsumedAssertion = defineEntity({
  name: 'ConsumedAssertion',
  tableName: 'consumed_assertion',
  properties: {
    issuer: p.string().length(1024).primary(),
    assertionId: p.string().length(256).primary(),
    expiresAt: p.datetime().index(),
    consumedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});
export type ConsumedAssertion = InferEntity<typeof ConsumedAssertion>;

/** Replay records are only needed until their assertions expire. */
export async function sweepConsumedAssertions(em: EntityManager): Promise<number> {
  return em.nativeDelete(ConsumedAssertion, { expiresAt: { $lt: new Date() } });
}
