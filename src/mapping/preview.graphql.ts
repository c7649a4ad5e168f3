import type { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { ErrorCodeEnum, InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import { definition, MappingDefinitionInput } from './mapping.graphql.js';
import { type Preview, type PreviewRow, previewMappings } from './preview.js';

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
        previewMappings(ctx.em, ctx.plugins, {
          connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
          nameId: input.nameId,
          attributes: input.attributes,
          samlResponse: input.samlResponse,
          mappings: input.mappings?.map(definition),
        }),
      ),
  }),
);
