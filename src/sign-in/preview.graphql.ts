import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { ErrorCodeEnum, InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import { definition, MappingDefinitionInput } from '../mapping/mapping.graphql.js';
import { type Preview, type PreviewRow, previewMappings } from '../provisioning/preview.js';
import { readUnverifiedSample } from '../saml/sample.js';
import type { Workers } from '../workers/workers.js';

declare module '../graphql/context.js' {
  interface Services {
    workers: Workers;
  }
}

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

const FieldErrorRef = builder.objectRef<AppError>('FieldError').implement({
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
  }),
});

const MappingPreviewRef = builder.objectRef<Preview>('MappingPreview').implement({
  description: 'What a sign-in would write to the contact; nothing was written.',
  fields: (t) => ({
    nameId: t.exposeString('nameId'),
    userExists: t.exposeBoolean('userExists'),
    rows: t.field({ type: [PreviewRowRef], resolve: (p) => p.rows }),
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
          { plugins: ctx.services.plugins, transforms: ctx.services.workers },
          {
            connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
            sample: () => sampleOf(input),
            mappings: input.mappings?.map(definition),
          },
        ),
      ),
  }),
);
