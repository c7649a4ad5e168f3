import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty } from '../db/timestamps.js';
import { User } from '../users/user.entity.js';

/**
 * A product license. `used` counts grants and is only ever changed by one conditional UPDATE, with a
 * CHECK constraint behind it, so concurrent sign-ins can never oversubscribe `seats`.
 */
export const License = defineEntity({
  name: 'License',
  tableName: 'license',
  checks: [{ name: 'license_seats_check', expression: 'seats is null or (seats >= 0 and used <= seats)' }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(200).unique(),
    seats: p.integer().nullable(),
    used: p.integer().default(0),
    active: p.boolean().default(true),
    createdAt: createdAtProperty(),
  },
});
export type License = InferEntity<typeof License>;

export const LicenseGrant = defineEntity({
  name: 'LicenseGrant',
  tableName: 'license_grant',
  uniques: [{ properties: ['license', 'user'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    license: p.manyToOne(License).index().deleteRule('cascade'),
    user: p.manyToOne(User).index().deleteRule('cascade'),
    createdAt: createdAtProperty(),
  },
});
export type LicenseGrant = InferEntity<typeof LicenseGrant>;
