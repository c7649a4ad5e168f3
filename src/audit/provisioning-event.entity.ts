import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import type { ErrorCode } from '../errors.js';

export const ProvisioningOutcome = ['CREATED', 'SIGNED_IN', 'UPDATED', 'REJECTED'] as const;
export type ProvisioningOutcome = (typeof ProvisioningOutcome)[number];

export interface FieldChange {
  column: string;
  old: unknown;
  new: unknown;
  mappingId: string | null;
}

/** A mapping that failed and fell back by its policy instead of refusing the sign-in. */
export interface MappingFallback {
  mappingId: string;
  column: string;
  policy: 'KEEP' | 'DEFAULT';
  code: ErrorCode;
  message: string;
}

/** What one license rule did for one sign-in (rule null: the connection has no rules). */
export interface LicenseDecision {
  licenseId: string;
  license: string;
  ruleId: string | null;
  decision: 'GRANTED' | 'HELD' | 'NO_SEAT' | 'REVOKED' | 'NOT_MATCHED' | 'UNKNOWN';
}

/**
 * The audit row of one ACS handoff. Plain ids (no foreign keys) so that the row outlives what it
 * describes and a rejected sign-in can record ids that never committed.
 */
export const ProvisioningEvent = defineEntity({
  name: 'ProvisioningEvent',
  tableName: 'provisioning_event',
  indexes: [{ name: 'provisioning_event_created_at_id_index', properties: ['createdAt', 'id'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date())
      .index(),
    connectionId: p.uuid().nullable().index(),
    userId: p.uuid().nullable().index(),
    nameId: p.string().length(512).nullable(),
    issuer: p.string().length(1024).nullable(),
    assertionId: p.string().length(256).nullable(),
    outcome: p.enum([...ProvisioningOutcome]),
    errorCode: p.string().length(64).nullable(),
    errorMessage: p.text().nullable(),
    changes: p.json<FieldChange[]>().defaultRaw(`'[]'`),
    licensesGranted: p.json<string[]>().defaultRaw(`'[]'`),
    /** Mappings that failed and fell back by their policy instead of refusing. */
    fallbacks: p.json<MappingFallback[]>().defaultRaw(`'[]'`),
    /** What each license rule did: granted, held, skipped for want of a seat, revoked, not matched. */
    licenseDecisions: p.json<LicenseDecision[]>().defaultRaw(`'[]'`),
    /** The roles the user holds after it, and whether the groups were unknown (Entra's overage). */
    roles: p.json<string[] | null>().nullable(),
    groupOverage: p.boolean().default(false),
    via: p.string().length(16),
  },
});
export type ProvisioningEvent = InferEntity<typeof ProvisioningEvent>;
