import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty } from '../db/timestamps.js';

/**
 * One admin change: who, what, on which record, and the record before and after. Written in the
 * same transaction as the change itself, so the log and the data cannot disagree.
 */
export const AdminAuditEvent = defineEntity({
  name: 'AdminAuditEvent',
  tableName: 'admin_audit_event',
  indexes: [{ name: 'admin_audit_event_created_at_id_index', properties: ['createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    createdAt: createdAtProperty(),
    /** `admin-token`, or `user:<id>` for a user holding the admin role. */
    actor: p.string().length(80),
    action: p.string().length(64).index(),
    targetType: p.string().length(64),
    targetId: p.string().length(64).nullable().index(),
    before: p.json<unknown>().nullable(),
    after: p.json<unknown>().nullable(),
  },
});
export type AdminAuditEvent = InferEntity<typeof AdminAuditEvent>;
