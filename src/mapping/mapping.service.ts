import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { isUniqueViolation, parseInput } from '../graphql/zod.js';
import { IdpConnection } from '../saml/connection.entity.js';
import { findContactField, KNOWN_MULTI_VALUED_ATTRIBUTES } from './contact-fields.js';
import { AttributeMapping } from './mapping.entity.js';

export const AddMappingInput = z.object({
  connectionId: z.string().uuid(),
  attributeName: z.string().trim().min(1).max(1024),
  column: z.string().min(1).max(64),
  required: z.boolean().nullish(),
  /** 0-based position among the connection's mappings; default: last. */
  position: z.number().int().min(0).nullish(),
});

/**
 * Adds a COPY mapping, validated now rather than at sign-in: the connection and column exist, no
 * other mapping fills the column, and a known multi-valued attribute only goes to a list column.
 */
export async function addMapping(em: EntityManager, input0: unknown): Promise<AttributeMapping> {
  const input = parseInput(AddMappingInput, input0);
  const connection = await em.findOne(IdpConnection, { id: input.connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const field = findContactField(input.column);
  if (!field) {
    throw new AppError(
      'MAPPING_INVALID',
      `contact has no column "${input.column}" (see the contactFields query)`,
      {
        path: ['input', 'column'],
      },
    );
  }
  if (!field.multiValued && KNOWN_MULTI_VALUED_ATTRIBUTES.has(input.attributeName)) {
    throw new AppError(
      'MAPPING_INVALID',
      `attribute "${input.attributeName}" is multi-valued and column "${field.name}" takes one value`,
      { path: ['input', 'column'] },
    );
  }
  const existing = await em.find(
    AttributeMapping,
    { connection: connection.id },
    { orderBy: { position: 'asc' } },
  );
  if (existing.some((m) => m.column === field.name)) {
    throw new AppError('MAPPING_INVALID', `another mapping already fills column "${field.name}"`, {
      path: ['input', 'column'],
    });
  }
  const position = Math.min(input.position ?? existing.length, existing.length);
  return em.transactional(async (tx) => {
    // Make room at `position`; positions stay a dense 0..n-1 sequence.
    await tx.nativeUpdate(
      AttributeMapping,
      { connection: connection.id, position: { $gte: position } },
      { position: raw('position + 1') },
    );
    const mapping = tx.create(AttributeMapping, {
      connection: connection.id,
      attributeName: input.attributeName,
      column: field.name,
      kind: 'COPY',
      required: input.required ?? false,
      position,
    });
    try {
      await tx.flush();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new AppError('MAPPING_INVALID', `another mapping already fills column "${field.name}"`, {
          path: ['input', 'column'],
        });
      }
      throw e;
    }
    return mapping;
  });
}

export async function removeMapping(em: EntityManager, id: string): Promise<string> {
  const mapping = await em.findOne(AttributeMapping, { id });
  if (!mapping) throw new AppError('NOT_FOUND', 'no attribute mapping has this id', { path: ['id'] });
  await em.transactional(async (tx) => {
    await tx.nativeDelete(AttributeMapping, { id });
    await tx.nativeUpdate(
      AttributeMapping,
      { connection: mapping.connection.id, position: { $gt: mapping.position } },
      { position: raw('position - 1') },
    );
  });
  return id;
}
