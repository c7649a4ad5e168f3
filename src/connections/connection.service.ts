import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, parseInput } from '../errors.js';
import { type IdpMetadata, parseIdpMetadata } from '../saml/idp-metadata.js';
import { IdpConnection, type PinnedCertificate } from './connection.entity.js';

const Options = {
  jitEnabled: z.boolean().nullish(),
  refreshOnLogin: z.boolean().nullish(),
  idpInitiatedAllowed: z.boolean().nullish(),
  wantResponseSigned: z.boolean().nullish(),
  clockSkewSeconds: z.number().int().min(0).max(600).nullish(),
  signAuthnRequests: z.boolean().nullish(),
  allowSha1: z.boolean().nullish(),
  groupsAttribute: z.string().trim().min(1).max(1024).nullish(),
  adminGroups: z.array(z.string().trim().min(1).max(256)).max(100).nullish(),
  sampleSize: z.number().int().min(0).max(10_000).nullish(),
  sampleRetentionDays: z.number().int().min(1).max(365).nullish(),
  identityKey: z.enum(['NAME_ID', 'ATTRIBUTE']).nullish(),
  identityKeyAttribute: z.string().trim().min(1).max(1024).nullish(),
  linkPolicy: z.enum(['USERNAME', 'EMAIL', 'NEVER']).nullish(),
  inactivityAction: z.enum(['BLOCK', 'RELEASE_SEATS', 'BLOCK_AND_RELEASE']).nullish(),
  scimEnabled: z.boolean().nullish(),
  scimDeprovision: z.enum(['BLOCK', 'BLOCK_AND_RELEASE']).nullish(),
};
// Days without a sign-in before the inactivity policy acts; null (on update) switches it off.
const InactivityDays = z.number().int().min(1).max(3650);

/** A connection that binds people by an attribute must name it. */
function checkBinding(c: Pick<IdpConnection, 'identityKey' | 'identityKeyAttribute'>): void {
  if (c.identityKey === 'ATTRIBUTE' && !c.identityKeyAttribute) {
    throw new AppError(
      'VALIDATION_FAILED',
      'identityKey ATTRIBUTE needs identityKeyAttribute, e.g. http://schemas.microsoft.com/identity/claims/objectidentifier',
      { path: ['input', 'identityKeyAttribute'] },
    );
  }
}
// A URI, as SAML's NameID Format is; null (on update) clears the expectation.
const NameIdFormat = z
  .string()
  .trim()
  .max(512)
  .regex(
    /^[a-z][a-z0-9+.-]*:\S+$/i,
    'must be a URI such as urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  );

export const CreateConnectionInput = z.object({
  name: z.string().trim().min(1).max(200),
  metadataXml: z.string().min(1),
  entityId: z.string().min(1).max(1024).nullish(),
  nameIdFormat: NameIdFormat.nullish(),
  inactivityDays: InactivityDays.nullish(),
  ...Options,
});

export const UpdateConnectionInput = z.object({
  id: z.uuid(),
  name: z.string().trim().min(1).max(200).nullish(),
  /** New metadata of the same IdP: certificates (rollover) and SSO URLs are taken from it. */
  metadataXml: z.string().min(1).nullish(),
  enabled: z.boolean().nullish(),
  nameIdFormat: NameIdFormat.nullish(),
  inactivityDays: InactivityDays.nullish(),
  ...Options,
});

function readMetadata(xml: string, entityId?: string | null): IdpMetadata {
  try {
    return parseIdpMetadata(xml, entityId ? { entityId } : undefined);
  } catch (e) {
    if (e instanceof AppError) {
      throw new AppError(e.code, e.message, { ...e.details, path: ['input', 'metadataXml'] });
    }
    throw e;
  }
}

const pinned = (metadata: IdpMetadata): PinnedCertificate[] =>
  metadata.signingCertificates.map((c) => ({
    pem: c.pem,
    subject: c.subject,
    notBefore: c.notBefore.toISOString(),
    notAfter: c.notAfter.toISOString(),
    fingerprintSha256: c.fingerprintSha256,
  }));

/**
 * What a connection would pin from this metadata (entity id, SSO URLs, certificates with subject and
 * validity), read by the same parser `createConnection` uses; nothing is written.
 */
export function previewMetadata(raw: unknown): IdpMetadataPreview {
  const input = parseInput(PreviewMetadataInput, raw);
  const metadata = readMetadata(input.metadataXml, input.entityId);
  return {
    entityId: metadata.entityId,
    ssoRedirectUrl: metadata.ssoRedirectUrl,
    ssoPostUrl: metadata.ssoPostUrl,
    wantAuthnRequestsSigned: metadata.wantAuthnRequestsSigned,
    certificates: pinned(metadata),
  };
}

export interface IdpMetadataPreview {
  entityId: string;
  ssoRedirectUrl: string | null;
  ssoPostUrl: string | null;
  wantAuthnRequestsSigned: boolean;
  certificates: PinnedCertificate[];
}

const PreviewMetadataInput = z.object({
  metadataXml: z.string().min(1),
  entityId: z.string().trim().min(1).nullish(),
});

/** Creates an IdP connection from the IdP's federation metadata; certificates are pinned from it. */
export async function createConnection(em: EntityManager, raw: unknown): Promise<IdpConnection> {
  const input = parseInput(CreateConnectionInput, raw);
  const metadata = readMetadata(input.metadataXml, input.entityId);
  const connection = em.create(IdpConnection, {
    name: input.name,
    entityId: metadata.entityId,
    ssoRedirectUrl: metadata.ssoRedirectUrl,
    ssoPostUrl: metadata.ssoPostUrl,
    certificates: pinned(metadata),
    // Metadata lists the formats an IdP can send, not the one it will: no expectation unless asked.
    nameIdFormat: input.nameIdFormat ?? null,
    jitEnabled: input.jitEnabled ?? true,
    refreshOnLogin: input.refreshOnLogin ?? false,
    idpInitiatedAllowed: input.idpInitiatedAllowed ?? true,
    wantResponseSigned: input.wantResponseSigned ?? false,
    clockSkewSeconds: input.clockSkewSeconds ?? 60,
    // The IdP says in its metadata whether it wants signed requests.
    signAuthnRequests: input.signAuthnRequests ?? metadata.wantAuthnRequestsSigned,
    allowSha1: input.allowSha1 ?? false,
    ...(input.groupsAttribute ? { groupsAttribute: input.groupsAttribute } : {}),
    adminGroups: input.adminGroups ?? [],
    sampleSize: input.sampleSize ?? 200,
    sampleRetentionDays: input.sampleRetentionDays ?? 30,
    identityKey: input.identityKey ?? 'NAME_ID',
    identityKeyAttribute: input.identityKeyAttribute ?? null,
    linkPolicy: input.linkPolicy ?? 'USERNAME',
    inactivityDays: input.inactivityDays ?? null,
    inactivityAction: input.inactivityAction ?? 'BLOCK_AND_RELEASE',
    scimEnabled: input.scimEnabled ?? false,
    scimDeprovision: input.scimDeprovision ?? 'BLOCK_AND_RELEASE',
    enabled: true,
  });
  checkBinding(connection);
  await flushOrConflict(em, metadata.entityId, input.name);
  return connection;
}

/**
 * Changes a connection's options, and with `metadataXml` re-pins its certificates and SSO URLs from
 * the IdP's current metadata: publish the new certificate beside the old one, update, then drop the
 * old one the same way once the IdP signs with the new one (rollover without downtime). The metadata
 * must describe the same IdP (entity id).
 */
export async function updateConnection(em: EntityManager, raw: unknown): Promise<IdpConnection> {
  const input = parseInput(UpdateConnectionInput, raw);
  const connection = await em.findOne(IdpConnection, { id: input.id });
  if (!connection)
    throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['input', 'id'] });
  if (input.metadataXml) {
    const metadata = readMetadata(input.metadataXml, connection.entityId);
    connection.certificates = pinned(metadata);
    connection.ssoRedirectUrl = metadata.ssoRedirectUrl;
    connection.ssoPostUrl = metadata.ssoPostUrl;
  }
  connection.name = input.name ?? connection.name;
  // Absent leaves a value alone; only nameIdFormat may be cleared, with an explicit null.
  if (input.nameIdFormat !== undefined) connection.nameIdFormat = input.nameIdFormat;
  connection.enabled = input.enabled ?? connection.enabled;
  connection.jitEnabled = input.jitEnabled ?? connection.jitEnabled;
  connection.refreshOnLogin = input.refreshOnLogin ?? connection.refreshOnLogin;
  connection.idpInitiatedAllowed = input.idpInitiatedAllowed ?? connection.idpInitiatedAllowed;
  connection.wantResponseSigned = input.wantResponseSigned ?? connection.wantResponseSigned;
  connection.clockSkewSeconds = input.clockSkewSeconds ?? connection.clockSkewSeconds;
  connection.signAuthnRequests = input.signAuthnRequests ?? connection.signAuthnRequests;
  connection.allowSha1 = input.allowSha1 ?? connection.allowSha1;
  connection.groupsAttribute = input.groupsAttribute ?? connection.groupsAttribute;
  connection.adminGroups = input.adminGroups ?? connection.adminGroups;
  connection.sampleSize = input.sampleSize ?? connection.sampleSize;
  connection.sampleRetentionDays = input.sampleRetentionDays ?? connection.sampleRetentionDays;
  connection.identityKey = input.identityKey ?? connection.identityKey;
  connection.identityKeyAttribute = input.identityKeyAttribute ?? connection.identityKeyAttribute;
  connection.linkPolicy = input.linkPolicy ?? connection.linkPolicy;
  if (input.inactivityDays !== undefined) connection.inactivityDays = input.inactivityDays;
  connection.inactivityAction = input.inactivityAction ?? connection.inactivityAction;
  connection.scimEnabled = input.scimEnabled ?? connection.scimEnabled;
  connection.scimDeprovision = input.scimDeprovision ?? connection.scimDeprovision;
  checkBinding(connection);
  // The entity id never changes here, so only the name can collide.
  await flushOrConflict(em, null, connection.name);
  return connection;
}

async function flushOrConflict(em: EntityManager, entityId: string | null, name: string): Promise<void> {
  try {
    await em.flush();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    const taken = entityId !== null && (await em.fork().findOne(IdpConnection, { entityId }));
    throw taken
      ? new AppError('CONFLICT', `a connection for IdP entity id "${entityId}" already exists`, {
          path: ['input', 'metadataXml'],
        })
      : new AppError('CONFLICT', `a connection named "${name}" already exists`, { path: ['input', 'name'] });
  }
}
