import { AppError, type ErrorCode } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { ErrorCodeEnum, InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import { definition, MappingDefinitionInput, MappingImpactRef } from '../mapping/mapping.graphql.js';
import { type Preview, type PreviewRow, type Previews, previewMappings } from '../provisioning/preview.js';
import { readUnverifiedSample } from '../saml/sample.js';

/** The sample a preview runs on: a captured SAMLResponse, or a NameID with attributes. */
function sampleOf(input: {
  nameId?: string | null;
  attributes?: { name: string; values: string[] }[] | null;
  samlResponse?: string | null;
}): { nameId: string; attributes: Record<string, string[]> } {
  if (input.samlResponse) {
    const read = readUnverifiedSample(input.samlResponse);
    return { nameId: input.nameId ?? read.nameId, attributes: read.attributes };
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

const FieldErrorRef = builder.objectRef<{ code: ErrorCode; message: string }>('FieldError').implement({
  description: 'Why one mapping could not produce its value.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
    message: t.exposeString('message'),
  }),
});

const PreviewRowRef = builder.objectRef<PreviewRow>('MappingPreviewRow').implement({
  fields: (t) => ({
    column: t.exposeString('column'),
    mappingId: t.exposeString('mappingId', { nullable: true, description: 'null for a draft mapping' }),
    attributeName: t.exposeString('attributeName', { nullable: true }),
    plugin: t.exposeString('plugin', { nullable: true }),
    before: t.field({ type: JsonScalar, nullable: true, resolve: (r) => r.before ?? null }),
    after: t.field({ type: JsonScalar, nullable: true, resolve: (r) => r.after ?? null }),
    willWrite: t.exposeBoolean('willWrite', { description: 'Whether a sign-in would write this column' }),
    error: t.field({ type: FieldErrorRef, nullable: true, resolve: (r) => r.error }),
    fallback: t.exposeString('fallback', {
      nullable: true,
      description:
        'How a failing mapping falls back by its policy (KEEP, DEFAULT); null when it did not fail or refuses',
    }),
  }),
});

const SamplePreviewRef = builder.objectRef<Preview>('MappingSamplePreview').implement({
  description: 'What a sign-in with one sample would write; nothing was written.',
  fields: (t) => ({
    nameId: t.exposeString('nameId'),
    userExists: t.exposeBoolean('userExists'),
    refused: t.exposeBoolean('refused', { description: 'Whether the sign-in would be refused' }),
    rows: t.field({ type: [PreviewRowRef], resolve: (p) => p.rows }),
  }),
});

const EMPTY: Preview = { nameId: '', userExists: false, refused: false, rows: [] };

const MappingPreviewRef = builder.objectRef<Previews>('MappingPreview').implement({
  description:
    'What a sign-in would write to the contact: for the sample given, or (recentSignIns) the most recent sign-in, with every recent one in `samples`; nothing was written.',
  fields: (t) => ({
    nameId: t.string({ resolve: (p) => (p.first ?? EMPTY).nameId }),
    userExists: t.boolean({ resolve: (p) => (p.first ?? EMPTY).userExists }),
    refused: t.boolean({
      description: 'Whether the sign-in would be refused',
      resolve: (p) => (p.first ?? EMPTY).refused,
    }),
    rows: t.field({ type: [PreviewRowRef], resolve: (p) => (p.first ?? EMPTY).rows }),
    samples: t.field({
      type: [SamplePreviewRef],
      description: 'One per sample: the one given, or each recent sign-in, newest first',
      resolve: (p) => p.samples,
    }),
    impact: t.field({
      type: MappingImpactRef,
      nullable: true,
      description: 'With recentSignIns and draft mappings: what saving the draft would do to those people',
      resolve: (p) => p.impact,
    }),
  }),
});

const SamlAttributeInput = builder.inputType('SamlAttributeInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    values: t.stringList({ required: true }),
  }),
});

const PreviewMappingsInput = builder.inputType('PreviewMappingsInput', {
  fields: (t) => ({
    connectionId: t.id({ required: true }),
    nameId: t.string({ description: 'The NameID to preview for (an existing user shows before values)' }),
    attributes: t.field({ type: [SamlAttributeInput], description: 'Sample attributes' }),
    samlResponse: t.string({
      description: 'A captured SAMLResponse (base64): read, never validated or consumed',
    }),
    mappings: t.field({
      type: [MappingDefinitionInput],
      description: 'A draft set to try instead of the stored one',
    }),
    recentSignIns: t.int({
      description:
        "Instead of a sample: the connection's last N sign-ins (1-200; their kept attribute sets, admins only)",
    }),
  }),
});

builder.queryField('previewMappings', (t) =>
  t.field({
    type: MappingPreviewRef,
    nullable: true,
    authScopes: { admin: true },
    description: 'Dry-runs the mappings against sample attributes; writes nothing.',
    errors: { types: [InputError] },
    args: { input: t.arg({ type: PreviewMappingsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        previewMappings(
          ctx.em,
          { plugins: ctx.services.plugins, transforms: ctx.services.transforms },
          {
            connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
            sample: () => sampleOf(input),
            recentSignIns: input.recentSignIns,
            mappings: input.mappings?.map(definition),
          },
        ),
      ),
  }),
);
