import type { EntityManager } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { AppError, type ErrorCode } from '../errors.js';
import { evaluateMappings } from '../mapping/engine.js';
import { impactOn, type MappingImpact } from '../mapping/impact.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { checkMapping } from '../mapping/mapping-rules.js';
import type { MappingRule } from '../mapping/rule.js';
import { recentSamples } from '../mapping/samples.sql.js';
import type { TransformRunner } from '../mapping/transform-calls.js';
import { flattenContact, planContactWrite } from '../mapping/write-plan.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import { type ContactField, loadCustomFields } from '../users/contact-fields.js';
import { readContact } from './provisioning.sql.js';

type Sample = { nameId: string; attributes: Record<string, string[]> };

export interface PreviewInput {
  connectionId: string;
  /** The NameID (username) and attributes to preview for, read once the connection is found. */
  sample?: () => Sample;
  /** Instead of a sample: the connection's last N sign-ins (their kept attribute sets). */
  recentSignIns?: number | null;
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
  /** Why the mapping could not produce its value; plain data (an Error returned to GraphQL would be thrown). */
  error: { code: ErrorCode; message: string } | null;
  /** How it fell back instead of refusing: KEEP or DEFAULT; null when it did not fail, or refuses. */
  fallback: 'KEEP' | 'DEFAULT' | null;
}

export interface Preview {
  nameId: string;
  userExists: boolean;
  /** Whether a sign-in with this sample would be refused (a failing mapping whose policy is REFUSE). */
  refused: boolean;
  rows: PreviewRow[];
}

export interface Previews {
  /** The sample given, or the most recent sign-in. */
  first: Preview | null;
  /** With recentSignIns: one per recent sign-in, newest first. */
  samples: Preview[];
  /** With recentSignIns and draft mappings: the draft against the stored mappings. */
  impact: MappingImpact | null;
}

const MAX_RECENT = 200;

/**
 * What a sign-in with these attributes would write to the contact, per column, with the value
 * before (for an existing user), after, the mapping and plugin that produced it, each mapping's
 * error and fallback. Reads only; nothing is written, no assertion is consumed. On recent sign-ins,
 * a draft set is also judged against the stored one (the impact a save would be checked for).
 */
export async function previewMappings(
  em: EntityManager,
  deps: { plugins: PluginCatalog; transforms: TransformRunner },
  input: PreviewInput,
): Promise<Previews> {
  const connection = await em.findOne(IdpConnection, { id: input.connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const stored = await em.find(
    AttributeMapping,
    { connection: connection.id },
    { orderBy: { position: 'asc' } },
  );
  const custom = await loadCustomFields(em);
  const rules: MappingRule[] = input.mappings
    ? input.mappings.map((m, i) => ({
        id: `draft-${i}`,
        ...checkMapping(m, deps.plugins, ['input', 'mappings', i], custom),
      }))
    : stored;
  if (input.recentSignIns === null || input.recentSignIns === undefined) {
    if (!input.sample)
      throw new AppError('VALIDATION_FAILED', 'give a sample or recentSignIns', { path: ['input'] });
    const first = await previewOne(em, deps, connection.refreshOnLogin, rules, input.sample(), custom);
    return { first, samples: [first], impact: null };
  }
  if (!Number.isInteger(input.recentSignIns) || input.recentSignIns < 1 || input.recentSignIns > MAX_RECENT) {
    throw new AppError('VALIDATION_FAILED', `recentSignIns: between 1 and ${MAX_RECENT}`, {
      path: ['input', 'recentSignIns'],
    });
  }
  const recent = await recentSamples(em, connection.id, input.recentSignIns);
  const samples: Preview[] = [];
  for (const s of recent) {
    samples.push(await previewOne(em, deps, connection.refreshOnLogin, rules, s, custom));
  }
  const impact = input.mappings ? await impactOn(deps.transforms, stored, rules, recent, custom) : null;
  return { first: samples[0] ?? null, samples, impact };
}

async function previewOne(
  em: EntityManager,
  deps: { transforms: TransformRunner },
  refreshOnLogin: boolean,
  rules: readonly MappingRule[],
  sample: Sample,
  custom: readonly ContactField[],
): Promise<Preview> {
  // By username: a preview has the sample's NameID, not the sign-in's stable key.
  const read = await readContact(em, { connectionId: '', username: sample.nameId, linkPolicy: 'USERNAME' });
  const { userExists } = read;
  const current = flattenContact(read.contact);
  const outcomes = await evaluateMappings(rules, sample, deps.transforms, custom);
  // An existing user's contact is only refreshed when the connection says so.
  const refreshes = !userExists || refreshOnLogin;
  const { writes } = planContactWrite(
    current,
    outcomes.filter((o) => !o.error || o.fallback),
  );
  const written = new Set(refreshes ? writes.map((w) => w.rule.id) : []);
  return {
    nameId: sample.nameId,
    userExists,
    refused: outcomes.some((o) => o.error && !o.fallback),
    rows: outcomes.map((o) => ({
      column: o.field.name,
      mappingId: o.rule.id.startsWith('draft-') ? null : o.rule.id,
      attributeName: o.rule.attributeName ?? null,
      plugin: o.rule.kind === 'TRANSFORM' ? (o.rule.plugin ?? null) : null,
      before: current && o.field.column ? (current[o.field.column] ?? null) : null,
      after: o.value,
      willWrite: written.has(o.rule.id),
      error: o.error ? { code: o.error.code, message: o.error.message } : null,
      fallback: o.fallback?.policy ?? null,
    })),
  };
}
