import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../saml/connection.entity.js';

export const MappingKind = ['COPY', 'TRANSFORM'] as const;
export type MappingKind = (typeof MappingKind)[number];

/** SAML attribute name → contact column, per connection, ordered by `position`. */
export const AttributeMapping = defineEntity({
  name: 'AttributeMapping',
  tableName: 'attribute_mapping',
  uniques: [{ properties: ['connection', 'column'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    position: p.integer(),
    attributeName: p.string().length(1024),
    column: p.string().length(64),
    kind: p.enum([...MappingKind]).default('COPY'),
    required: p.boolean().default(false),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});
export type AttributeMapping = InferEntity<typeof AttributeMapping>;
