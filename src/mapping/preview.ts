import type { EntityManager } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { AppError } from '../errors.js';
import { readIncomingResponse } from '../saml/incoming.js';
import { childElements, firstChild, NS, parseStrictXml, textOf } from '../saml/xml.js';
import { evaluateMappings, type MappingRule } from './engine.js';
import { AttributeMapping } from './mapping.entity.js';
import { checkMapping } from './mapping-rules.js';
import type { TransformPlugins } from './transform.js';
import { type ContactRow, planContactWrite } from './write-plan.js';

export interface PreviewInput {
  connectionId: string;
  nameId?: string | null;
  attributes?: { name: string; values: string[] }[] | null;
  /** A captured SAMLResponse: read for its NameID and attributes, never validated or consumed. */
  samlResponse?: string | null;
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
  plugins: TransformPlugins,
  input: PreviewInput,
): Promise<Preview> {
  const connection = await em.findOne(IdpConnection, { id: input.connectionId });
  if (!connection) {
    throw new AppError('NOT_FOUND', 'no IdP connection has this id', { path: ['input', 'connectionId'] });
  }
  const sample = readSample(input);
  const rules: MappingRule[] = input.mappings
    ? input.mappings.map((m, i) => ({
        id: `draft-${i}`,
        ...checkMapping(m, plugins, ['input', 'mappings', i]),
      }))
    : await em.find(AttributeMapping, { connection: connection.id }, { orderBy: { position: 'asc' } });

  const user = (
    await em.execute<{ id: string }[]>('select id from app_user where username = ?', [sample.nameId])
  )[0];
  const current = user
    ? ((await em.execute<ContactRow[]>('select * from contact where user_id = ?', [user.id]))[0] ?? null)
    : null;
  const outcomes = await evaluateMappings(rules, sample, plugins);
  // An existing user's contact is only refreshed when the connection says so.
  const refreshes = !user || connection.refreshOnLogin;
  const { writes } = planContactWrite(
    current,
    outcomes.filter((o) => !o.error),
  );
  const written = new Set(refreshes ? writes.map((w) => w.rule.id) : []);
  return {
    nameId: sample.nameId,
    userExists: Boolean(user),
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

function readSample(input: PreviewInput): { nameId: string; attributes: Record<string, string[]> } {
  if (input.samlResponse) {
    // Hygiene as at the ACS (size, base64, DOCTYPE, well-formed), then the first assertion's data.
    const incoming = readIncomingResponse(input.samlResponse, 1024 * 1024);
    const assertion = childElements(
      parseStrictXml(incoming.xml)!.documentElement!,
      NS.assertion,
      'Assertion',
    )[0];
    if (!assertion) {
      throw new AppError(
        'SAML_RESPONSE_MALFORMED',
        'the SAMLResponse has no readable (unencrypted) assertion',
        {
          path: ['input', 'samlResponse'],
        },
      );
    }
    const subject = firstChild(assertion, NS.assertion, 'Subject');
    const nameIdEl = subject && firstChild(subject, NS.assertion, 'NameID');
    const attributes: Record<string, string[]> = Object.create(null);
    for (const statement of childElements(assertion, NS.assertion, 'AttributeStatement')) {
      for (const attr of childElements(statement, NS.assertion, 'Attribute')) {
        const name = attr.getAttribute('Name') ?? '';
        if (name) {
          attributes[name] = [
            ...(attributes[name] ?? []),
            ...childElements(attr, NS.assertion, 'AttributeValue').map(textOf),
          ];
        }
      }
    }
    return { nameId: input.nameId ?? (nameIdEl ? textOf(nameIdEl).trim() : ''), attributes };
  }
  if (!input.nameId) {
    throw new AppError('VALIDATION_FAILED', 'give a nameId with attributes, or a samlResponse', {
      path: ['input', 'nameId'],
    });
  }
  const attributes: Record<string, string[]> = Object.create(null);
  for (const a of input.attributes ?? []) attributes[a.name] = [...(attributes[a.name] ?? []), ...a.values];
  return { nameId: input.nameId, attributes };
}
