import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { createdAtProperty, updatedAtProperty } from '../db/timestamps.js';

/** A signing certificate pinned from the IdP's metadata. */
export interface PinnedCertificate {
  pem: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}

/** One IdP trust. Created from the IdP's federation metadata XML. */
export const IdpConnection = defineEntity({
  name: 'IdpConnection',
  tableName: 'idp_connection',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(200).unique(),
    entityId: p.string().length(1024).unique(),
    ssoRedirectUrl: p.string().length(2048).nullable(),
    ssoPostUrl: p.string().length(2048).nullable(),
    certificates: p.json<PinnedCertificate[]>(),
    enabled: p.boolean().default(true),
    jitEnabled: p.boolean().default(true),
    refreshOnLogin: p.boolean().default(false),
    idpInitiatedAllowed: p.boolean().default(true),
    wantResponseSigned: p.boolean().default(false),
    clockSkewSeconds: p.integer().default(60),
    /** The NameID Format responses must carry; null = any but transient. Also asked for in AuthnRequests. */
    nameIdFormat: p.string().length(512).nullable(),
    /** Sign SP-initiated AuthnRequests with the SP key. */
    signAuthnRequests: p.boolean().default(false),
    /** Accept rsa-sha1 signatures and sha1 digests (legacy IdPs only). */
    allowSha1: p.boolean().default(false),
    /** The attribute carrying the person's groups (Entra's groups claim by default). */
    groupsAttribute: p
      .string()
      .length(1024)
      .default('http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'),
    /** Group values that make a user an admin of jitprov; re-evaluated at every sign-in. */
    adminGroups: p.json<string[]>().defaultRaw(`'[]'`),
    /**
     * Bumped by the database on every change to the connection or its attribute mappings (see the
     * config_version migration); sign-ins check it against the configuration they cached.
     */
    configVersion: p.integer().default(1),
    /**
     * How many recent sign-ins' attribute sets are kept (the latest per person) to check mapping
     * changes against; 0 keeps none. Personal data: admins only, and for `sampleRetentionDays`.
     */
    sampleSize: p.integer().default(200),
    sampleRetentionDays: p.integer().default(30),
    /** What a user is bound by: the NameID (username), or an attribute that never changes. */
    identityKey: p.enum(['NAME_ID', 'ATTRIBUTE'] as const).default('NAME_ID'),
    /** The attribute of identityKey ATTRIBUTE, e.g. Entra's objectidentifier claim. */
    identityKeyAttribute: p.string().length(1024).nullable(),
    /**
     * Whom a first sign-in may take over when no user is bound to the person yet: an unbound user
     * with the same username, one whose contact has the same email, or nobody.
     */
    linkPolicy: p.enum(['USERNAME', 'EMAIL', 'NEVER'] as const).default('USERNAME'),
    /** Block people who have not signed in for this many days (null: never), and/or release their seats. */
    inactivityDays: p.integer().nullable(),
    inactivityAction: p
      .enum(['BLOCK', 'RELEASE_SEATS', 'BLOCK_AND_RELEASE'] as const)
      .default('BLOCK_AND_RELEASE'),
    /** SCIM 2.0 provisioning (src/scim) accepted for this connection, with its tokens. */
    scimEnabled: p.boolean().default(false),
    /** What a SCIM deactivation (active=false) or DELETE does: block (sessions end), and give back the seats or keep them. */
    scimDeprovision: p.enum(['BLOCK', 'BLOCK_AND_RELEASE'] as const).default('BLOCK_AND_RELEASE'),
    createdAt: createdAtProperty(),
    updatedAt: updatedAtProperty(),
  },
});
export type IdpConnection = InferEntity<typeof IdpConnection>;
