import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty, updatedAtProperty } from '../db/timestamps.js';

export const UserStatus = ['ACTIVE', 'BLOCKED'] as const;
export type UserStatus = (typeof UserStatus)[number];

/** An account; `username` is the NameID the IdP sends, matched exactly. */
export const User = defineEntity({
  name: 'User',
  tableName: 'app_user',
  // Keyset pagination keys (see src/users/directory.graphql.ts).
  indexes: [
    { name: 'app_user_created_at_id_index', properties: ['createdAt', 'id'] },
    {
      name: 'app_user_last_login_id_index',
      expression: `create index "app_user_last_login_id_index" on "app_user" (coalesce(last_login_at, 'epoch'::timestamptz), id)`,
    },
  ],
  // One person per stable key within a connection (see IdpConnection.identityKey).
  uniques: [
    { name: 'app_user_connection_id_external_key_unique', properties: ['connection', 'externalKey'] },
  ],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    username: p.string().length(512).unique(),
    connection: p.manyToOne(IdpConnection).nullable().index().deleteRule('set null'),
    /**
     * The stable key the connection binds people by when it binds by an attribute (Entra's object
     * id, an employee id): a new NameID or email renames the user instead of making a second one.
     * Null when the connection binds by NameID, and for users not yet bound (pre-created).
     */
    externalKey: p.string().length(512).nullable(),
    status: p.enum([...UserStatus]).default('ACTIVE'),
    /** Holds the admin role (from the connection's admin groups at the last sign-in). */
    isAdmin: p.boolean().default(false),
    createdAt: createdAtProperty(),
    lastLoginAt: p.datetime().nullable(),
  },
});
export type User = InferEntity<typeof User>;

/** The person record of a user. Columns are the contact-field catalog (src/mapping/contact-fields.ts). */
export const Contact = defineEntity({
  name: 'Contact',
  tableName: 'contact',
  // Keyset pagination keys and the search expression (see src/users/directory.graphql.ts).
  indexes: [
    {
      name: 'contact_name_id_index',
      expression: `create index "contact_name_id_index" on "contact" (lower(coalesce(full_name, '')), id)`,
    },
    { name: 'contact_created_at_id_index', properties: ['createdAt', 'id'] },
    {
      name: 'contact_search_trgm_index',
      expression: `create index "contact_search_trgm_index" on "contact" using gin ((coalesce(full_name, '') || ' ' || coalesce(email, '')) gin_trgm_ops)`,
    },
    { name: 'contact_department_index', properties: ['department'] },
    { name: 'contact_company_index', properties: ['company'] },
    {
      name: 'contact_custom_index',
      expression: `create index "contact_custom_index" on "contact" using gin ("custom" jsonb_path_ops)`,
    },
  ],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    user: p.oneToOne(User).owner().unique().deleteRule('cascade'),
    fullName: p.string().length(200).nullable(),
    givenName: p.string().length(100).nullable(),
    surname: p.string().length(100).nullable(),
    email: p.string().length(320).nullable(),
    phone: p.string().length(32).nullable(),
    mobilePhone: p.string().length(32).nullable(),
    jobTitle: p.string().length(128).nullable(),
    department: p.string().length(128).nullable(),
    company: p.string().length(128).nullable(),
    officeLocation: p.string().length(128).nullable(),
    city: p.string().length(100).nullable(),
    country: p.string().length(2).nullable(),
    language: p.string().length(35).nullable(),
    externalId: p.string().length(128).nullable(),
    employeeId: p.string().length(64).nullable(),
    groups: p.array().columnType('text[]').nullable(),
    /** Admin-defined fields (src/users/contact-field.entity.ts), by name. */
    custom: p.json<Record<string, unknown>>().defaultRaw(`'{}'`),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
});
export type Contact = InferEntity<typeof Contact>;
