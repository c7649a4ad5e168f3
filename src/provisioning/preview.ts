import type { EntityManager } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { AppError } from '../errors.js';
import { evaluateMappings } from '../mapping/engine.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { checkMapping } from '../mapping/mapping-rules.js';
import type { MappingRule } from '../mapping/rule.js';
import type { TransformRunner } from '../mapping/transform-calls.js';
import { planContactWrite } from '../mapping/write-plan.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import { readContact } from './provisioning.sql.js';

export interface PreviewInput {
  connectionId: string;
  /** The NameID (username) and attributes to preview for, read once the connection is found. */
  sample: () => { nameId: string; attributes: Record<string, string[]> };
  /** A draft mapping set to try instead of the stored one. */
  mappings?: Record<string, unknown>[] | null;
}
export interface PreviewRow {
  column: string;
  mappingId: string | null;
  attributeName: string | null;
  plugin: string | null;
  before: unknown;
  after: unknown;
  willWrite: boolean;
  error: AppError | null;
}

export interface Preview {
  nameId: string;
  userExists: boolean;
  rows: PreviewRow[];
}

/**
 * What a sign-in with these attributes would write to the contact, per column, with the value
 * before (for an existing user), after, the mapping and plugin that produced it, and each mapping's
 * error. Reads only; nothing is written, no assertion is consumed.
 */
export async function previewMappings(
  em: EntityManager,
  deps: { plugins: PluginCatalog; transforms: TransformRunner },
  input: PreviewInput,
): Promise<Preview> {
  const connection = await em.findOne(IdpConnection, { id: input.connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const sample = input.sample();
  const rules: MappingRule[] = input.mappings
    ? input.mappings.map((m, i) => ({
        id: `draft-${i}`,
        ...checkMapping(m, deps.plugins, ['input', 'mappings', i]),
      }))
    : await em.find(AttributeMapping, { connection: connection.id }, { orderBy: { position: 'asc' } });

  const { userExists, contact: current } = await readContact(em, sample.nameId);
  const outcomes = await evaluateMappings(rules, sample, deps.transforms);
  // An existing user's contact is only refreshed when the connection says so.
  const refreshes = !userExists || connection.refreshOnLogin;
  const { writes } = planContactWrite(
    current,
    outcomes.filter((o) => !o.error),
  );
  const written = new Set(refreshes ? writes.map((w) => w.rule.id) : []);
  return {
    nameId: sample.nameId,
    userExists,
    rows: outcomes.map((o) => ({
      column: o.field.name,
      mappingId: o.rule.id.startsWith('draft-') ? null : o.rule.id,
      attributeName: o.rule.attributeName ?? null,
      plugin: o.rule.kind === 'TRANSFORM' ? (o.rule.plugin ?? null) : null,
      before: current && o.field.column ? (current[o.field.column] ?? null) : null,
      after: o.value,
      willWrite: written.has(o.rule.id),
      error: o.error,
    })),
  };
}
