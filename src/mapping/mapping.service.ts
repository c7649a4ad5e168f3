import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { IdpConnection } from '../connections/connection.entity.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, parseInput } from '../errors.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import { AttributeMapping } from './mapping.entity.js';
import { type CheckedMapping, checkMapping } from './mapping-rules.js';

const Placement = z.object({
  connectionId: z.uuid(),
  /** 0-based position among the connection's mappings; default: last. */
  position: z.number().int().min(0).nullish(),
});

const columnTaken = (column: string, path: (string | number)[]) =>
  new AppError('MAPPING_INVALID', `another mapping already fills column "${column}"`, { path });

function toRow(m: CheckedMapping) {
  return {
    kind: m.kind,
    attributeName: m.attributeName ?? null,
    column: m.field.name,
    plugin: m.kind === 'TRANSFORM' ? (m.plugin ?? null) : null,
    params: m.kind === 'TRANSFORM' ? m.params : null,
    required: m.required,
    defaultValue: m.defaultValue ?? null,
    multiValue: m.multiValue,
    separator: m.separator,
    writePolicy: m.writePolicy,
  };
}

async function flushMapping(em: EntityManager, column: string) {
  try {
    await em.flush();
  } catch (e) {
    if (isUniqueViolation(e)) throw columnTaken(column, ['input', 'mapping', 'column']);
    throw e;
  }
}

/** Adds a mapping at a position (default last), validated first; positions stay 0..n-1. */
export async function addMapping(
  em: EntityManager,
  plugins: PluginCatalog,
  input: Record<string, unknown>,
): Promise<AttributeMapping> {
  const placement = parseInput(Placement, input);
  const checked = checkMapping(input.mapping, plugins, ['input', 'mapping']);
  const connection = await em.findOne(IdpConnection, { id: placement.connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const existing = await em.count(AttributeMapping, {
    connection: connection.id,
    column: checked.field.name,
  });
  if (existing > 0) throw columnTaken(checked.field.name, ['input', 'mapping', 'column']);
  return em.transactional(async (tx) => {
    const count = await tx.count(AttributeMapping, { connection: connection.id });
    const position = Math.min(placement.position ?? count, count);
    await tx.nativeUpdate(
      AttributeMapping,
      { connection: connection.id, position: { $gte: position } },
      { position: raw('position + 1') },
    );
    const mapping = tx.create(AttributeMapping, { connection: connection.id, position, ...toRow(checked) });
    await flushMapping(tx, checked.field.name);
    return mapping;
  });
}

/** Replaces a mapping's definition (its position stays), validated like a new one. */
export async function updateMapping(
  em: EntityManager,
  plugins: PluginCatalog,
  id: string,
  input: Record<string, unknown>,
): Promise<AttributeMapping> {
  const mapping = await em.findOne(AttributeMapping, { id });
  if (!mapping) throw new AppError('NOT_FOUND', 'no attribute mapping has this id', { path: ['id'] });
  const checked = checkMapping(input, plugins, ['input', 'mapping']);
  const clash = await em.count(AttributeMapping, {
    connection: mapping.connection.id,
    column: checked.field.name,
    id: { $ne: id },
  });
  if (clash > 0) throw columnTaken(checked.field.name, ['input', 'mapping', 'column']);
  em.assign(mapping, toRow(checked));
  await flushMapping(em, checked.field.name);
  return mapping;
}

export async function removeMapping(em: EntityManager, id: string): Promise<void> {
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
}

/** Sets the order of a connection's mappings: `ids` must name each of them exactly once. */
export async function reorderMappings(
  em: EntityManager,
  connectionId: string,
  ids: string[],
): Promise<AttributeMapping[]> {
  const mappings = await em.find(
    AttributeMapping,
    { connection: connectionId },
    { orderBy: { position: 'asc' } },
  );
  const known = new Set(mappings.map((m) => m.id));
  if (ids.length !== mappings.length || new Set(ids).size !== ids.length || !ids.every((i) => known.has(i))) {
    throw new AppError(
      'VALIDATION_FAILED',
      'mappingIds must list every mapping of the connection exactly once',
      {
        path: ['input', 'mappingIds'],
      },
    );
  }
  const byId = new Map(mappings.map((m) => [m.id, m]));
  ids.forEach((mid, position) => {
    byId.get(mid)!.position = position;
  });
  await em.flush();
  return ids.map((mid) => byId.get(mid)!);
}

export function listMappings(em: EntityManager, connectionId: string): Promise<AttributeMapping[]> {
  return em.find(AttributeMapping, { connection: connectionId }, { orderBy: { position: 'asc' } });
}
