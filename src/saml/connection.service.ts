import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { isUniqueViolation, parseInput } from '../graphql/zod.js';
import { IdpConnection } from './connection.entity.js';
import { parseIdpMetadata } from './idp-metadata.js';

export const CreateConnectionInput = z.object({
  name: z.string().trim().min(1).max(200),
  metadataXml: z.string().min(1),
  entityId: z.string().min(1).max(1024).nullish(),
  jitEnabled: z.boolean().nullish(),
  refreshOnLogin: z.boolean().nullish(),
  idpInitiatedAllowed: z.boolean().nullish(),
  wantResponseSigned: z.boolean().nullish(),
  clockSkewSeconds: z.number().int().min(0).max(600).nullish(),
});

/** Creates an IdP connection from the IdP's federation metadata; certificates are pinned from it. */
export async function createConnection(em: EntityManager, raw: unknown): Promise<IdpConnection> {
  const input = parseInput(CreateConnectionInput, raw);
  let metadata: ReturnType<typeof parseIdpMetadata>;
  try {
    metadata = parseIdpMetadata(input.metadataXml, input.entityId ? { entityId: input.entityId } : undefined);
  } catch (e) {
    if (e instanceof AppError) {
      throw new AppError(e.code, e.message, { ...e.details, path: ['input', 'metadataXml'] });
    }
    throw e;
  }
  const connection = em.create(IdpConnection, {
    name: input.name,
    entityId: metadata.entityId,
    ssoRedirectUrl: metadata.ssoRedirectUrl,
    ssoPostUrl: metadata.ssoPostUrl,
    certificates: metadata.signingCertificates.map((c) => ({
      pem: c.pem,
      subject: c.subject,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      fingerprintSha256: c.fingerprintSha256,
    })),
    nameIdFormat: metadata.nameIdFormats[0] ?? null,
    jitEnabled: input.jitEnabled ?? true,
    refreshOnLogin: input.refreshOnLogin ?? false,
    idpInitiatedAllowed: input.idpInitiatedAllowed ?? true,
    wantResponseSigned: input.wantResponseSigned ?? false,
    clockSkewSeconds: input.clockSkewSeconds ?? 60,
    enabled: true,
  });
  try {
    await em.flush();
  } catch (e) {
    if (isUniqueViolation(e)) {
      const taken = await em.findOne(IdpConnection, { entityId: metadata.entityId });
      throw taken
        ? new AppError('CONFLICT', `a connection for IdP entity id "${metadata.entityId}" already exists`, {
            path: ['input', 'metadataXml'],
          })
        : new AppError('CONFLICT', `a connection named "${input.name}" already exists`, {
            path: ['input', 'name'],
          });
    }
    throw e;
  }
  return connection;
}
