import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty } from '../db/timestamps.js';
import { User } from './user.entity.js';

/** A sign-in session. Only the SHA-256 of the opaque token is stored. */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'user_session',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    tokenHash: p.string().length(64).unique(),
    user: p.manyToOne(User).index().deleteRule('cascade'),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
    createdAt: createdAtProperty(),
  },
});
export type Session = InferEntity<typeof Session>;
