import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty } from '../db/timestamps.js';

/**
 * A named admin API token: what an automation or a colleague uses instead of the bootstrap
 * ADMIN_TOKEN, audited by its name. Only the SHA-256 of the secret is stored; it is shown once.
 */
export const AdminToken = defineEntity({
  name: 'AdminToken',
  tableName: 'admin_token',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(80).unique(),
    tokenHash: p.string().length(64).unique(),
    /** Who made it (the actor, as the audit log names it). */
    createdBy: p.string().length(80),
    createdAt: createdAtProperty(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});
export type AdminToken = InferEntity<typeof AdminToken>;
