import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty, updatedAtProperty } from '../db/timestamps.js';
import { User } from '../users/user.entity.js';

/**
 * A bearer token an IdP's SCIM client presents (per connection; several live during a rotation).
 * Only the SHA-256 of the secret is stored; it is shown once.
 */
export const ScimToken = defineEntity({
  name: 'ScimToken',
  tableName: 'scim_token',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    name: p.string().length(80),
    tokenHash: p.string().length(64).unique(),
    createdAt: createdAtProperty(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});
export type ScimToken = InferEntity<typeof ScimToken>;

/**
 * A user as the IdP's SCIM client last wrote them: the resource it PUT, POSTed or PATCHed (what a
 * GET answers and the next PATCH applies to). `deletedAt`: DELETEd (deprovisioned, no longer served).
 */
export const ScimUser = defineEntity({
  name: 'ScimUser',
  tableName: 'scim_user',
  properties: {
    user: p.oneToOne(User).primary().deleteRule('cascade'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    resource: p.json<Record<string, unknown>>(),
    deletedAt: p.datetime().nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
});
export type ScimUser = InferEntity<typeof ScimUser>;

/** A group the IdP's SCIM client pushed; its members' groups feed role rules and group license rules. */
export const ScimGroup = defineEntity({
  name: 'ScimGroup',
  tableName: 'scim_group',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    displayName: p.string().length(256),
    /** Entra sends the group's object id here: what its SAML groups claim carries too. */
    externalId: p.string().length(512).nullable(),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
});
export type ScimGroup = InferEntity<typeof ScimGroup>;

export const ScimGroupMember = defineEntity({
  name: 'ScimGroupMember',
  tableName: 'scim_group_member',
  properties: {
    group: p.manyToOne(ScimGroup).primary().deleteRule('cascade'),
    user: p.manyToOne(User).primary().index().deleteRule('cascade'),
  },
});
export type ScimGroupMember = InferEntity<typeof ScimGroupMember>;
