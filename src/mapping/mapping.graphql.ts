import { adminChange, snapshot } from '../audit/admin-audit.js';
import { IdpConnectionRef } from '../connections/connection.graphql.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import type { PluginCatalog, PluginInfo } from '../plugins/catalog.js';
import { CONTACT_FIELDS, type ContactField } from '../users/contact-fields.js';
import { AttributeMapping, MappingKind } from './mapping.entity.js';
import {
  addMapping,
  listMappings,
  removeMapping,
  reorderMappings,
  updateMapping,
} from './mapping.service.js';

declare module '../graphql/context.js' {
  interface Services {
    plugins: PluginCatalog;
  }
}

const ContactFieldTypeEnum = builder.enumType('ContactFieldType', {
  values: ['STRING', 'EMAIL', 'PHONE', 'COUNTRY', 'LANGUAGE', 'STRING_LIST'] as const,
});
const MappingKindEnum = builder.enumType('MappingKind', { values: MappingKind });
const MultiValuePolicyEnum = builder.enumType('MultiValuePolicy', {
  description: 'How several values land in a single-valued column (list columns take them all)',
  values: {
    FIRST: { description: 'Take the first value' },
    JOIN: { description: 'Join them with the separator' },
    REFUSE: { description: 'Refuse the sign-in when there are several' },
  },
});
const WritePolicyEnum = builder.enumType('WritePolicy', {
  description:
    'When a mapping writes its column (for existing users only when the connection refreshes on login)',
  values: {
    ON_CREATE: { description: 'Only when the contact is created' },
    ALWAYS: { description: 'At every sign-in, when the value changed' },
    IF_EMPTY: { description: 'Only while the column is empty' },
  },
});

export const ContactFieldRef = builder.objectRef<ContactField>('ContactField').implement({
  description: 'A contact column an attribute mapping can fill (the admin dropdown).',
  fields: (t) => ({
    name: t.exposeString('name'),
    label: t.exposeString('label'),
    type: t.field({ type: ContactFieldTypeEnum, resolve: (f) => f.type }),
    maxLength: t.exposeInt('maxLength'),
    multiValued: t.exposeBoolean('multiValued'),
    description: t.exposeString('description'),
  }),
});

const TransformPluginRef = builder.objectRef<PluginInfo>('TransformPlugin').implement({
  description: 'A transform plugin; build its parameter form from paramsSchema (JSON Schema).',
  fields: (t) => ({
    name: t.exposeString('name'),
    version: t.exposeString('version'),
    description: t.exposeString('description'),
    paramsSchema: t.field({ type: JsonScalar, resolve: (p) => p.paramsJsonSchema }),
  }),
});

export const AttributeMappingRef = builder.node(builder.objectRef<AttributeMapping>('AttributeMapping'), {
  description: 'A SAML attribute (or a transform plugin) → a contact column, applied in `position` order.',
  authScopes: { admin: true },
  id: { resolve: (m) => m.id },
  loadOne: (id, ctx) => ctx.em.findOne(AttributeMapping, { id }),
  fields: (t) => ({
    position: t.exposeInt('position'),
    kind: t.field({ type: MappingKindEnum, resolve: (m) => m.kind }),
    attributeName: t.exposeString('attributeName', {
      nullable: true,
      description: 'Exactly as the IdP sends it',
    }),
    column: t.exposeString('column'),
    field: t.field({
      type: ContactFieldRef,
      resolve: (m) => CONTACT_FIELDS.find((f) => f.name === m.column)!,
    }),
    plugin: t.exposeString('plugin', { nullable: true }),
    params: t.field({ type: JsonScalar, nullable: true, resolve: (m) => m.params ?? null }),
    required: t.exposeBoolean('required'),
    defaultValue: t.field({ type: JsonScalar, nullable: true, resolve: (m) => m.defaultValue ?? null }),
    multiValue: t.field({ type: MultiValuePolicyEnum, resolve: (m) => m.multiValue }),
    separator: t.exposeString('separator'),
    writePolicy: t.field({ type: WritePolicyEnum, resolve: (m) => m.writePolicy }),
  }),
});

builder.objectField(IdpConnectionRef, 'mappings', (t) =>
  t.field({
    type: [AttributeMappingRef],
    description: 'The attribute mappings, in the order they apply',
    resolve: (c, _args, ctx) =>
      ctx.em.find(AttributeMapping, { connection: c.id }, { orderBy: { position: 'asc' } }),
  }),
);

builder.queryField('contactFields', (t) =>
  t.field({
    type: [ContactFieldRef],
    description: 'The mappable contact columns and their types.',
    resolve: () => [...CONTACT_FIELDS],
  }),
);

builder.queryField('transformPlugins', (t) =>
  t.field({
    type: [TransformPluginRef],
    nullable: true,
    authScopes: { admin: true },
    description: 'The installed transform plugins with their parameter JSON Schema.',
    resolve: (_root, _args, ctx) => ctx.services.plugins.list(),
  }),
);

builder.queryField('attributeMappings', (t) =>
  t.field({
    type: [AttributeMappingRef],
    nullable: true,
    authScopes: { admin: true },
    args: { connectionId: t.arg.id({ required: true }) },
    resolve: (_root, { connectionId }, ctx) =>
      typedErrors(() =>
        listMappings(ctx.em, decodeId(String(connectionId), 'IdpConnection', ['connectionId'])),
      ),
  }),
);

export const MappingDefinitionInput = builder.inputType('MappingDefinitionInput', {
  description: 'What a mapping does; validated when written.',
  fields: (t) => ({
    kind: t.field({ type: MappingKindEnum, description: 'COPY (default) or TRANSFORM' }),
    attributeName: t.string({
      description: 'The SAML attribute, exactly as the IdP names it (required for COPY)',
    }),
    column: t.string({ required: true, description: 'A ContactField name' }),
    plugin: t.string({
      description: 'Transform plugin name (TRANSFORM); `expression` for an inline JSONata',
    }),
    params: t.field({ type: JsonScalar, description: 'Plugin parameters, checked against its paramsSchema' }),
    required: t.boolean({ description: 'Refuse a sign-in that gives no value (default false)' }),
    defaultValue: t.field({
      type: JsonScalar,
      description: 'Value when the attribute is absent (string or list)',
    }),
    multiValue: t.field({ type: MultiValuePolicyEnum, description: 'Default REFUSE' }),
    separator: t.string({ description: 'For multiValue JOIN (default ", ")' }),
    writePolicy: t.field({ type: WritePolicyEnum, description: 'Default ALWAYS' }),
  }),
});

/** GraphQL leaves omitted fields undefined and explicit nulls null; the guard takes both. */
export const definition = (m: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null && v !== undefined));

const AddAttributeMappingInput = builder.inputType('AddAttributeMappingInput', {
  fields: (t) => ({
    connectionId: t.id({ required: true, description: 'IdpConnection id' }),
    position: t.int({ description: '0-based position; default last' }),
    mapping: t.field({ type: MappingDefinitionInput, required: true }),
  }),
});

builder.mutationField('addAttributeMapping', (t) =>
  t.field({
    type: AttributeMappingRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: AddAttributeMappingInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'mapping.add', async (em) => {
          const mapping = await addMapping(em, ctx.services.plugins, {
            connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
            position: input.position,
            mapping: definition(input.mapping),
          });
          return { result: mapping, targetType: 'AttributeMapping', targetId: mapping.id, after: mapping };
        }),
      ),
  }),
);

const UpdateAttributeMappingInput = builder.inputType('UpdateAttributeMappingInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    mapping: t.field({ type: MappingDefinitionInput, required: true }),
  }),
});

builder.mutationField('updateAttributeMapping', (t) =>
  t.field({
    type: AttributeMappingRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: UpdateAttributeMappingInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'mapping.update', async (em) => {
          const id = decodeId(String(input.id), 'AttributeMapping', ['input', 'id']);
          const current = await em.findOne(AttributeMapping, { id });
          const before = current ? snapshot(current) : null;
          const mapping = await updateMapping(em, ctx.services.plugins, id, definition(input.mapping));
          return { result: mapping, targetType: 'AttributeMapping', targetId: id, before, after: mapping };
        }),
      ),
  }),
);

builder.mutationField('removeAttributeMapping', (t) =>
  t.field({
    type: 'ID',
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError], directResult: false },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'mapping.remove', async (em) => {
          const mappingId = decodeId(String(id), 'AttributeMapping', ['id']);
          const current = await em.findOne(AttributeMapping, { id: mappingId });
          const before = current ? snapshot(current) : null;
          await removeMapping(em, mappingId);
          return { result: String(id), targetType: 'AttributeMapping', targetId: mappingId, before };
        }),
      ),
  }),
);

const ReorderAttributeMappingsInput = builder.inputType('ReorderAttributeMappingsInput', {
  fields: (t) => ({
    connectionId: t.id({ required: true }),
    mappingIds: t.idList({
      required: true,
      description: 'Every mapping of the connection, in the new order',
    }),
  }),
});

builder.mutationField('reorderAttributeMappings', (t) =>
  t.field({
    type: [AttributeMappingRef],
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError], directResult: false },
    args: { input: t.arg({ type: ReorderAttributeMappingsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'mapping.reorder', async (em) => {
          const connectionId = decodeId(String(input.connectionId), 'IdpConnection', [
            'input',
            'connectionId',
          ]);
          const ids = input.mappingIds.map((mid, i) =>
            decodeId(String(mid), 'AttributeMapping', ['input', 'mappingIds', i]),
          );
          const mappings = await reorderMappings(em, connectionId, ids);
          return {
            result: mappings,
            targetType: 'IdpConnection',
            targetId: connectionId,
            after: { order: ids },
          };
        }),
      ),
  }),
);
