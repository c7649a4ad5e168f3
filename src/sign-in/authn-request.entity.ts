import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty } from '../db/timestamps.js';

/**
 * An AuthnRequest we sent. In PostgreSQL, not process memory, so the response may reach any server
 * process; answered once (`consumedBy`: the assertion that answered it) and inert once expired,
 * when the next request's insert sweeps it.
 */
export const AuthnRequest = defineEntity({
  name: 'AuthnRequest',
  tableName: 'authn_request',
  properties: {
    id: p.string().length(128).primary(),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    expiresAt: p.datetime().index(),
    consumedBy: p.string().length(256).nullable(),
    createdAt: createdAtProperty(),
  },
});
export type AuthnRequest = InferEntity<typeof AuthnRequest>;
