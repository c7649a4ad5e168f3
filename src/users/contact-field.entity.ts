import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty } from '../db/timestamps.js';

export const CustomFieldType = ['STRING', 'NUMBER', 'BOOLEAN', 'DATE', 'ENUM', 'STRING_LIST'] as const;
export type CustomFieldType = (typeof CustomFieldType)[number];

/**
 * A contact field an admin defines: mappable and queryable like the built-in columns, stored in
 * the contact's `custom` JSON by name, typed by its definition (checked when a mapping is written,
 * coerced at sign-in).
 */
export const ContactFieldDefinition = defineEntity({
  name: 'ContactFieldDefinition',
  tableName: 'contact_field',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(64).unique(),
    label: p.string().length(200),
    type: p.enum([...CustomFieldType]),
    /** The values an ENUM field takes. */
    enumValues: p.json<string[]>().nullable(),
    description: p.string().length(500).default(''),
    createdAt: createdAtProperty(),
  },
});
export type ContactFieldDefinition = InferEntity<typeof ContactFieldDefinition>;
