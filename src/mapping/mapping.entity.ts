import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty, updatedAtProperty } from '../db/timestamps.js';

export const MappingKind = ['COPY', 'TRANSFORM'] as const;
export type MappingKind = (typeof MappingKind)[number];

/** How several values land in a single-valued column (list columns always take them all). */
export const MultiValuePolicy = ['FIRST', 'JOIN', 'REFUSE'] as const;
export type MultiValuePolicy = (typeof MultiValuePolicy)[number];

/**
 * What a sign-in does when a mapping fails (a required attribute missing, a transform failing, a
 * value that does not fit its column): refuse the sign-in, keep the column as it is, or write the
 * mapping's default value. Resolved when the mapping is written (see mapping-rules.ts).
 */
export const FailurePolicy = ['REFUSE', 'KEEP', 'DEFAULT'] as const;
export type FailurePolicy = (typeof FailurePolicy)[number];

/** When a mapping writes its column: at creation only, at every sign-in, or while the column is empty. */
export const WritePolicy = ['ON_CREATE', 'ALWAYS', 'IF_EMPTY'] as const;
export type WritePolicy = (typeof WritePolicy)[number];

/** SAML attribute (or transform plugin) → contact column, per connection, ordered by `position`. */
export const AttributeMapping = defineEntity({
  name: 'AttributeMapping',
  tableName: 'attribute_mapping',
  uniques: [{ properties: ['connection', 'column'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    position: p.integer(),
    /** The attribute as the IdP names it; optional for transforms that read $attributes. */
    attributeName: p.string().length(1024).nullable(),
    column: p.string().length(64),
    kind: p.enum([...MappingKind]).default('COPY'),
    plugin: p.string().length(64).nullable(),
    params: p.json<Record<string, unknown>>().nullable(),
    required: p.boolean().default(false),
    /** Used when the attribute is absent: a string, or a list for list columns. */
    defaultValue: p.json<string | string[]>().nullable(),
    multiValue: p.enum([...MultiValuePolicy]).default('REFUSE'),
    separator: p.string().length(16).default(', '),
    writePolicy: p.enum([...WritePolicy]).default('ALWAYS'),
    onFailure: p.enum([...FailurePolicy]).default('KEEP'),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
});
export type AttributeMapping = InferEntity<typeof AttributeMapping>;
