import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty } from '../db/timestamps.js';
import { License } from './license.entity.js';

export const LicenseRuleKind = ['EVERYONE', 'GROUP', 'EXPRESSION'] as const;
export type LicenseRuleKind = (typeof LicenseRuleKind)[number];

/**
 * Grant a license to everyone, to members of a group, or when an expression over the attributes
 * holds; per connection, in order (the first rule naming a license decides for it). A connection
 * with no rule grants every available license to a new user, as jitprov always did.
 */
export const LicenseRule = defineEntity({
  name: 'LicenseRule',
  tableName: 'license_rule',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    position: p.integer(),
    license: p.manyToOne(License).index().deleteRule('cascade'),
    kind: p.enum([...LicenseRuleKind]),
    groupValue: p.string().length(256).nullable(),
    /** JSONata over $attributes, $nameId, $groups: a true result matches. */
    expression: p.text().nullable(),
    /** Take the license back when the rule no longer holds at a sign-in. */
    revokeUnmatched: p.boolean().default(false),
    /** No free seat: refuse the sign-in, or let it in without the license. */
    onExhausted: p.enum(['REFUSE', 'SKIP'] as const).default('SKIP'),
    createdAt: createdAtProperty(),
  },
});
export type LicenseRule = InferEntity<typeof LicenseRule>;
