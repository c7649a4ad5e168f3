import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { IdpConnection } from '../connections/connection.entity.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError, parseInput } from '../errors.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import { type ContactField, loadCustomFields } from '../users/contact-fields.js';
import { connectionImpact, dryRun, type MappingImpact, refuseUnlessForced } from './impact.js';
import { AttributeMapping } from './mapping.entity.js';
import { type CheckedMapping, checkMapping } from './mapping-rules.js';
import type { MappingRule } from './rule.js';
import { checkPatterns } from './safety.js';
import type { TransformRunner } from './transform-calls.js';

/** A change to a connection's mappings, as the admin asks for it (ids are database ids). */
export type MappingChange =
  | { kind: 'add'; connectionId: string; position?: number | null; mapping: Record<string, unknown> }
  | { kind: 'update'; id: string; mapping: Record<string, unknown> }
  | { kind: 'remove'; id: string }
  | { kind: 'reorder'; connectionId: string; ids: string[] };

export interface MappingDeps {
  plugins: PluginCatalog;
  transforms: TransformRunner;
}

const Placement = z.object({
  connectionId: z.uuid(),
  /** 0-based position among the connection's mappings; default: last. */
  position: z.number().int().min(0).nullish(),
});

const columnTaken = (column: string, path: (string | number)[]) =>
  new AppError('MAPPING_INVALID', `another mapping already fills column "${column}"`, { path });

const notFound = (path: (string | number)[]) =>
  new AppError('NOT_FOUND', 'no attribute mapping has this id', { path });

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
    onFailure: m.onFailure,
  };
}

/** A plain copy of a stored mapping: what it is now, whatever later assignments do to the entity. */
const ruleOf = (m: AttributeMapping): MappingRule => ({
  id: m.id,
  kind: m.kind,
  attributeName: m.attributeName ?? null,
  column: m.column,
  plugin: m.plugin ?? null,
  params: m.params ?? null,
  required: m.required,
  defaultValue: m.defaultValue ?? null,
  multiValue: m.multiValue,
  separator: m.separator,
  writePolicy: m.writePolicy,
  onFailure: m.onFailure,
});

export function listMappings(em: EntityManager, connectionId: string): Promise<AttributeMapping[]> {
  return em.find(AttributeMapping, { connection: connectionId }, { orderBy: { position: 'asc' } });
}

interface Plan {
  connection: IdpConnection;
  mappings: AttributeMapping[];
  before: MappingRule[];
  after: MappingRule[];
  /** The mapping written (add, update), checked. */
  checked?: CheckedMapping;
  target?: AttributeMapping;
  position?: number;
  /** The admin-defined contact fields the mappings may target. */
  custom: ContactField[];
}

/**
 * Validates a change and works out the mapping set it would leave, without writing: every check
 * a write makes (the column, plugin, parameters, expression, default value, one mapping per
 * column, the order) plus the regular expressions' safety.
 */
async function plan(em: EntityManager, deps: MappingDeps, change: MappingChange): Promise<Plan> {
  let connectionId: string;
  let target: AttributeMapping | undefined;
  if (change.kind === 'update' || change.kind === 'remove') {
    const found = await em.findOne(AttributeMapping, { id: change.id });
    if (!found) throw notFound(change.kind === 'update' ? ['input', 'id'] : ['id']);
    target = found;
    connectionId = found.connection.id;
  } else {
    connectionId = parseInput(Placement, { connectionId: change.connectionId }).connectionId;
  }
  const connection = await em.findOne(IdpConnection, { id: connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const mappings = await listMappings(em, connection.id);
  const before = mappings.map(ruleOf);
  const custom = await loadCustomFields(em);

  switch (change.kind) {
    case 'add':
    case 'update': {
      const placement = change.kind === 'add' ? parseInput(Placement, change) : null;
      const checked = checkMapping(change.mapping, deps.plugins, ['input', 'mapping'], custom);
      const others = before.filter((r) => change.kind === 'add' || r.id !== change.id);
      if (others.some((r) => r.column === checked.field.name)) {
        throw columnTaken(checked.field.name, ['input', 'mapping', 'column']);
      }
      await checkPatterns(checked, deps.plugins, ['input', 'mapping']);
      const rule: MappingRule = { id: target?.id ?? 'new', ...toRow(checked) };
      if (change.kind === 'update') {
        return {
          connection,
          mappings,
          before,
          custom,
          after: before.map((r) => (r.id === rule.id ? rule : r)),
          checked,
          target,
        };
      }
      const position = Math.min(placement?.position ?? before.length, before.length);
      const after = [...before.slice(0, position), rule, ...before.slice(position)];
      return { connection, mappings, before, custom, after, checked, position };
    }
    case 'remove':
      return {
        connection,
        mappings,
        before,
        custom,
        after: before.filter((r) => r.id !== change.id),
        target,
      };
    case 'reorder': {
      const known = new Set(before.map((r) => r.id));
      const { ids } = change;
      if (
        ids.length !== before.length ||
        new Set(ids).size !== ids.length ||
        !ids.every((i) => known.has(i))
      ) {
        throw new AppError(
          'VALIDATION_FAILED',
          'mappingIds must list every mapping of the connection exactly once',
          {
            path: ['input', 'mappingIds'],
          },
        );
      }
      const byId = new Map(before.map((r) => [r.id, r]));
      return { connection, mappings, before, custom, after: ids.map((id) => byId.get(id) as MappingRule) };
    }
  }
}

/**
 * What a change would do, written nowhere: validated as a write is, a new or changed transform
 * tried on typical input (see dryRun), and its impact on the connection's recent sign-ins.
 */
export async function checkMappingChange(
  em: EntityManager,
  deps: MappingDeps,
  change: MappingChange,
): Promise<MappingImpact> {
  const p = await plan(em, deps, change);
  return judge(em, deps, p);
}

async function judge(em: EntityManager, deps: MappingDeps, p: Plan): Promise<MappingImpact> {
  const changed = p.checked ? p.after.find((r) => r.column === p.checked?.field.name) : undefined;
  if (changed) await dryRun(em, deps.transforms, p.connection.id, changed, ['input', 'mapping', 'params']);
  return connectionImpact(em, deps.transforms, p.connection, p.before, p.after, p.custom);
}

async function flushMapping(em: EntityManager, column: string) {
  try {
    await em.flush();
  } catch (e) {
    if (isUniqueViolation(e)) throw columnTaken(column, ['input', 'mapping', 'column']);
    throw e;
  }
}

/** A change validated and judged (prepareMappingChange), ready to be applied in a transaction. */
export interface PreparedChange {
  change: MappingChange;
  plan: Plan;
  impact: MappingImpact;
}

/**
 * Checks a change as checkMappingChange does and refuses it (MAPPING_WOULD_REFUSE, with the
 * impact) when it would refuse people who signed in fine, unless `force`. Outside the write's
 * transaction, so that trying the mappings on the samples holds no lock.
 */
export async function prepareMappingChange(
  em: EntityManager,
  deps: MappingDeps,
  change: MappingChange,
  force: boolean,
): Promise<PreparedChange> {
  const p = await plan(em, deps, change);
  const impact = await judge(em, deps, p);
  refuseUnlessForced(impact, force);
  return { change, plan: p, impact };
}

/**
 * Applies a prepared change in the transaction `tx`; positions stay 0..n-1. Returns the mappings
 * it wrote (add and update: the one; reorder: all; remove: none).
 */
export async function applyMappingChange(
  tx: EntityManager,
  prepared: PreparedChange,
): Promise<AttributeMapping[]> {
  const { change, plan: p } = prepared;
  const connectionId = p.connection.id;
  switch (change.kind) {
    case 'add': {
      const checked = p.checked as CheckedMapping;
      const count = await tx.count(AttributeMapping, { connection: connectionId });
      const position = Math.min(p.position ?? count, count);
      await tx.nativeUpdate(
        AttributeMapping,
        { connection: connectionId, position: { $gte: position } },
        { position: raw('position + 1') },
      );
      const mapping = tx.create(AttributeMapping, { connection: connectionId, position, ...toRow(checked) });
      await flushMapping(tx, checked.field.name);
      return [mapping];
    }
    case 'update': {
      const checked = p.checked as CheckedMapping;
      const mapping = await tx.findOne(AttributeMapping, { id: change.id });
      if (!mapping) throw notFound(['input', 'id']);
      tx.assign(mapping, toRow(checked));
      await flushMapping(tx, checked.field.name);
      return [mapping];
    }
    case 'remove': {
      const mapping = await tx.findOne(AttributeMapping, { id: change.id });
      if (!mapping) throw notFound(['id']);
      await tx.nativeDelete(AttributeMapping, { id: mapping.id });
      await tx.nativeUpdate(
        AttributeMapping,
        { connection: connectionId, position: { $gt: mapping.position } },
        { position: raw('position - 1') },
      );
      return [];
    }
    case 'reorder': {
      const mappings = await listMappings(tx, connectionId);
      const byId = new Map(mappings.map((m) => [m.id, m]));
      if (mappings.length !== change.ids.length || !change.ids.every((id) => byId.has(id))) {
        throw new AppError('CONFLICT', "the connection's mappings changed meanwhile; reorder them again", {
          path: ['input', 'mappingIds'],
        });
      }
      change.ids.forEach((id, position) => {
        (byId.get(id) as AttributeMapping).position = position;
      });
      await tx.flush();
      return change.ids.map((id) => byId.get(id) as AttributeMapping);
    }
  }
}
