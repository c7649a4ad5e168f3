import { adminChange, snapshot } from '../audit/admin-audit.js';
import { IdpConnectionRef } from '../connections/connection.graphql.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import type { Context } from '../graphql/context.js';
import { ErrorCodeEnum, ErrorInterface, InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import type { PluginCatalog, PluginInfo } from '../plugins/catalog.js';
import {
  CONTACT_FIELDS,
  type ContactField,
  findContactField,
  loadCustomFields,
} from '../users/contact-fields.js';
import type { ImpactRefusal, MappingImpact } from './impact.js';
import { AttributeMapping, MappingKind } from './mapping.entity.js';
import {
  applyMappingChange,
  checkMappingChange,
  listMappings,
  type MappingChange,
  prepareMappingChange,
} from './mapping.service.js';
import { type SeenAttribute, seenAttributes } from './samples.sql.js';
import type { TransformRunner } from './transform-calls.js';

declare module '../graphql/context.js' {
  interface Services {
    plugins: PluginCatalog;
    transforms: TransformRunner;
  }
}

/** The admin-defined fields, read once per request however many fields ask. */
const perRequest = new WeakMap<object, Promise<ContactField[]>>();
function customFieldsOf(ctx: { em: Parameters<typeof loadCustomFields>[0] }): Promise<ContactField[]> {
  let fields = perRequest.get(ctx);
  if (!fields) {
    fields = loadCustomFields(ctx.em);
    perRequest.set(ctx, fields);
  }
  return fields;
}

export const ContactFieldTypeEnum = builder.enumType('ContactFieldType', {
  values: [
    'STRING',
    'EMAIL',
    'PHONE',
    'COUNTRY',
    'LANGUAGE',
    'STRING_LIST',
    'NUMBER',
    'BOOLEAN',
    'DATE',
    'ENUM',
  ] as const,
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
const FailurePolicyEnum = builder.enumType('FailurePolicy', {
  description:
    'What a sign-in does when a mapping fails (a required attribute missing, a transform failing, a value that does not fit its column)',
  values: {
    REFUSE: { description: 'Refuse the sign-in (the default for a required mapping)' },
    KEEP: {
      description: 'Leave the column as it is (the default for an optional mapping without a default value)',
    },
    DEFAULT: { description: 'Write the default value (the default for an optional mapping with one)' },
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
    custom: t.exposeBoolean('custom', {
      description: 'Defined by an admin (read it with Contact.custom / customFields) rather than built in',
    }),
    enumValues: t.stringList({
      nullable: true,
      description: 'The values an ENUM field takes',
      resolve: (f) => (f.enumValues ? [...f.enumValues] : null),
    }),
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
      resolve: async (m, _args, ctx) =>
        findContactField(m.column, await customFieldsOf(ctx)) ?? {
          // A field removed since (removal is refused while a mapping uses it): shown as a string.
          ...(CONTACT_FIELDS[0] as ContactField),
          name: m.column,
          column: `custom.${m.column}`,
          label: m.column,
          custom: true,
        },
    }),
    plugin: t.exposeString('plugin', { nullable: true }),
    params: t.field({ type: JsonScalar, nullable: true, resolve: (m) => m.params ?? null }),
    required: t.exposeBoolean('required'),
    defaultValue: t.field({ type: JsonScalar, nullable: true, resolve: (m) => m.defaultValue ?? null }),
    multiValue: t.field({ type: MultiValuePolicyEnum, resolve: (m) => m.multiValue }),
    separator: t.exposeString('separator'),
    writePolicy: t.field({ type: WritePolicyEnum, resolve: (m) => m.writePolicy }),
    onFailure: t.field({ type: FailurePolicyEnum, resolve: (m) => m.onFailure }),
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

const SeenAttributeRef = builder.objectRef<SeenAttribute>('SeenAttribute').implement({
  description: "An attribute name the connection's recent sign-ins carried (names only, never values)",
  fields: (t) => ({
    name: t.exposeString('name'),
    signIns: t.exposeInt('signIns', { description: 'How many of the kept recent sign-ins carried it' }),
    lastSeenAt: t.field({ type: 'DateTime', resolve: (a) => a.lastSeenAt }),
  }),
});

builder.objectField(IdpConnectionRef, 'seenAttributes', (t) =>
  t.field({
    type: [SeenAttributeRef],
    authScopes: { admin: true },
    description:
      "The attribute names the IdP sent in the kept recent sign-ins (see sampleSize), most carried first: what a mapping's attributeName can be",
    resolve: (c, _args, ctx) => seenAttributes(ctx.em, c.id),
  }),
);

builder.queryField('contactFields', (t) =>
  t.field({
    type: [ContactFieldRef],
    description:
      'The mappable contact fields and their types: the built-in columns, then the admin-defined fields.',
    resolve: async (_root, _args, ctx) => [...CONTACT_FIELDS, ...(await customFieldsOf(ctx))],
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
    onFailure: t.field({
      type: FailurePolicyEnum,
      description: 'Default: REFUSE when required, DEFAULT with a defaultValue, otherwise KEEP',
    }),
  }),
});

/** GraphQL leaves omitted fields undefined and explicit nulls null; the guard takes both. */
export const definition = (m: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null && v !== undefined));

const ImpactRefusalRef = builder.objectRef<ImpactRefusal>('MappingImpactRefusal').implement({
  description: 'A person a mapping change would refuse, and why.',
  fields: (t) => ({
    nameId: t.exposeString('nameId'),
    code: t.field({ type: ErrorCodeEnum, resolve: (r) => r.code }),
    message: t.exposeString('message'),
    column: t.exposeString('column', { nullable: true }),
  }),
});

const ColumnChangeRef = builder
  .objectRef<{ column: string; people: number }>('MappingImpactColumn')
  .implement({
    fields: (t) => ({ column: t.exposeString('column'), people: t.exposeInt('people') }),
  });

export const MappingImpactRef = builder.objectRef<MappingImpact>('MappingImpact').implement({
  description:
    "What a mapping change would do to the connection's recent sign-ins (their attribute sets are kept, the latest per person): nothing is written.",
  fields: (t) => ({
    sampled: t.exposeInt('sampled', { description: 'Recent sign-ins checked' }),
    available: t.exposeInt('available', { description: 'Recent sign-ins kept' }),
    wouldRefuse: t.exposeInt('wouldRefuse', {
      description: 'People accepted now whom the change would refuse',
    }),
    refusals: t.field({
      type: [ImpactRefusalRef],
      description: 'The first of them',
      resolve: (i) => i.refusals,
    }),
    wouldAccept: t.exposeInt('wouldAccept', {
      description: 'People refused now whom the change would accept',
    }),
    changes: t.field({
      type: [ColumnChangeRef],
      description: 'Per column, how many people would get another value',
      resolve: (i) => i.changes,
    }),
    partial: t.exposeBoolean('partial', { description: 'True when the check stopped at its time budget' }),
  }),
});

/** A mapping change refused because it would refuse people who signed in fine (force overrides). */
class MappingChangeRefused extends AppError {}
builder.objectType(MappingChangeRefused, {
  name: 'MappingChangeRefused',
  interfaces: [ErrorInterface],
  isTypeOf: (e) => e instanceof MappingChangeRefused,
  fields: (t) => ({
    impact: t.field({ type: MappingImpactRef, resolve: (e) => e.details.impact as MappingImpact }),
  }),
});
const refusedChange = (e: AppError) => (e.code === 'MAPPING_WOULD_REFUSE' ? MappingChangeRefused : undefined);

const FORCE_DESCRIPTION =
  'Save even when the change would refuse people who signed in lately (default false: such a change is refused with MappingChangeRefused)';

/**
 * One mapping change: validated, tried on the connection's recent sign-ins outside the write's
 * transaction, then written with its audit row.
 */
function change<T>(
  ctx: Context,
  action: string,
  mappingChange: () => MappingChange,
  force: boolean | null | undefined,
  done: (
    written: AttributeMapping[],
    before: unknown,
  ) => { result: T; targetType: string; targetId: string; after?: unknown },
): Promise<T> {
  return typedErrors(async () => {
    const deps = { plugins: ctx.services.plugins, transforms: ctx.services.transforms };
    const prepared = await prepareMappingChange(ctx.em, deps, mappingChange(), force === true);
    const target = prepared.plan.target;
    const before = target ? snapshot(target) : null;
    return adminChange(ctx, action, async (em) => {
      const written = await applyMappingChange(em, prepared);
      const r = done(written, prepared.change);
      // The audit row says what the change was checked against, not who (the samples are personal data).
      const { sampled, wouldRefuse, wouldAccept, changes } = prepared.impact;
      return {
        ...r,
        before,
        after: {
          change: r.after ?? null,
          impact: { sampled, wouldRefuse, wouldAccept, changes, forced: force === true && wouldRefuse > 0 },
        },
      };
    });
  }, refusedChange);
}

const AddAttributeMappingInput = builder.inputType('AddAttributeMappingInput', {
  fields: (t) => ({
    connectionId: t.id({ required: true, description: 'IdpConnection id' }),
    position: t.int({ description: '0-based position; default last' }),
    mapping: t.field({ type: MappingDefinitionInput, required: true }),
    force: t.boolean({ description: FORCE_DESCRIPTION }),
  }),
});

builder.mutationField('addAttributeMapping', (t) =>
  t.field({
    type: AttributeMappingRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError, MappingChangeRefused] },
    args: { input: t.arg({ type: AddAttributeMappingInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      change(
        ctx,
        'mapping.add',
        () => ({
          kind: 'add',
          connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
          position: input.position,
          mapping: definition(input.mapping),
        }),
        input.force,
        ([mapping]) => ({
          result: mapping as AttributeMapping,
          targetType: 'AttributeMapping',
          targetId: (mapping as AttributeMapping).id,
          after: snapshot(mapping),
        }),
      ),
  }),
);

const UpdateAttributeMappingInput = builder.inputType('UpdateAttributeMappingInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    mapping: t.field({ type: MappingDefinitionInput, required: true }),
    force: t.boolean({ description: FORCE_DESCRIPTION }),
  }),
});

builder.mutationField('updateAttributeMapping', (t) =>
  t.field({
    type: AttributeMappingRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError, MappingChangeRefused] },
    args: { input: t.arg({ type: UpdateAttributeMappingInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      change(
        ctx,
        'mapping.update',
        () => ({
          kind: 'update',
          id: decodeId(String(input.id), 'AttributeMapping', ['input', 'id']),
          mapping: definition(input.mapping),
        }),
        input.force,
        ([mapping]) => ({
          result: mapping as AttributeMapping,
          targetType: 'AttributeMapping',
          targetId: (mapping as AttributeMapping).id,
          after: snapshot(mapping),
        }),
      ),
  }),
);

builder.mutationField('removeAttributeMapping', (t) =>
  t.field({
    type: 'ID',
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError, MappingChangeRefused], directResult: false },
    args: { id: t.arg.id({ required: true }), force: t.arg.boolean({ description: FORCE_DESCRIPTION }) },
    resolve: (_root, { id, force }, ctx) =>
      change(
        ctx,
        'mapping.remove',
        () => ({ kind: 'remove', id: decodeId(String(id), 'AttributeMapping', ['id']) }),
        force,
        (_written, c) => ({
          result: String(id),
          targetType: 'AttributeMapping',
          targetId: (c as { id: string }).id,
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
    force: t.boolean({ description: FORCE_DESCRIPTION }),
  }),
});

builder.mutationField('reorderAttributeMappings', (t) =>
  t.field({
    type: [AttributeMappingRef],
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError, MappingChangeRefused], directResult: false },
    args: { input: t.arg({ type: ReorderAttributeMappingsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      change(
        ctx,
        'mapping.reorder',
        () => ({
          kind: 'reorder',
          connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
          ids: input.mappingIds.map((mid, i) =>
            decodeId(String(mid), 'AttributeMapping', ['input', 'mappingIds', i]),
          ),
        }),
        input.force,
        (mappings, c) => ({
          result: mappings,
          targetType: 'IdpConnection',
          targetId: (c as { connectionId: string }).connectionId,
          after: { order: mappings.map((m) => m.id) },
        }),
      ),
  }),
);

const MappingChangeInput = builder.inputType('MappingChangeInput', {
  description: 'One change to try: exactly one of add, update, remove, reorder.',
  fields: (t) => ({
    add: t.field({ type: AddAttributeMappingInput }),
    update: t.field({ type: UpdateAttributeMappingInput }),
    remove: t.id({ description: 'The AttributeMapping to remove' }),
    reorder: t.field({ type: ReorderAttributeMappingsInput }),
  }),
});

builder.queryField('checkMappingChange', (t) =>
  t.field({
    type: MappingImpactRef,
    nullable: true,
    authScopes: { admin: true },
    description:
      "Tries a mapping change on the connection's recent sign-ins, and a new or changed transform on typical input; writes nothing.",
    errors: { types: [InputError] },
    args: { input: t.arg({ type: MappingChangeInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() => {
        const given = [input.add, input.update, input.remove, input.reorder].filter(
          (v) => v !== null && v !== undefined,
        );
        if (given.length !== 1) {
          throw new AppError('VALIDATION_FAILED', 'give exactly one of add, update, remove and reorder', {
            path: ['input'],
          });
        }
        let mappingChange: MappingChange;
        if (input.add) {
          mappingChange = {
            kind: 'add',
            connectionId: decodeId(String(input.add.connectionId), 'IdpConnection', [
              'input',
              'add',
              'connectionId',
            ]),
            position: input.add.position,
            mapping: definition(input.add.mapping),
          };
        } else if (input.update) {
          mappingChange = {
            kind: 'update',
            id: decodeId(String(input.update.id), 'AttributeMapping', ['input', 'update', 'id']),
            mapping: definition(input.update.mapping),
          };
        } else if (input.reorder) {
          const r = input.reorder;
          mappingChange = {
            kind: 'reorder',
            connectionId: decodeId(String(r.connectionId), 'IdpConnection', [
              'input',
              'reorder',
              'connectionId',
            ]),
            ids: r.mappingIds.map((mid, i) =>
              decodeId(String(mid), 'AttributeMapping', ['input', 'reorder', 'mappingIds', i]),
            ),
          };
        } else {
          mappingChange = {
            kind: 'remove',
            id: decodeId(String(input.remove), 'AttributeMapping', ['input', 'remove']),
          };
        }
        return checkMappingChange(
          ctx.em,
          { plugins: ctx.services.plugins, transforms: ctx.services.transforms },
          mappingChange,
        );
      }),
  }),
);
