import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty } from '../db/timestamps.js';

/**
 * An AuthnRequest we sent and not yet saw answered. In PostgreSQL, not process memory, so the
 * response may reach any server process; deleted when answered (one use) and inert once expired.
 */
export const AuthnRequest = defineEntity({
  name: 'AuthnRequest',
  tableName: 'authn_request',
  properties: {
    id: p.string().length(128).primary(),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    expiresAt: p.datetime().index(),
    createdAt: createdAtProperty(),
  },
});
export type AuthnRequest = InferEntity<typeof AuthnRequest>;
