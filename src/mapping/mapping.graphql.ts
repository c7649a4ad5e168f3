import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/zod.js';
import { CONTACT_FIELDS, type ContactField } from './contact-fields.js';
import { AttributeMapping } from './mapping.entity.js';
import { addMapping, removeMapping } from './mapping.service.js';

const ContactFieldTypeEnum = builder.enumType('ContactFieldType', {
  values: ['STRING', 'EMAIL', 'PHONE', 'COUNTRY', 'LANGUAGE', 'STRING_LIST'] as const,
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

export const AttributeMappingRef = builder.node(builder.objectRef<AttributeMapping>('AttributeMapping'), {
  description: 'SAML attribute → contact column, applied in `position` order.',
  authScopes: { admin: true },
  id: { resolve: (m) => m.id },
  loadOne: (id, ctx) => ctx.em.findOne(AttributeMapping, { id }),
  fields: (t) => ({
    position: t.exposeInt('position'),
    attributeName: t.exposeString('attributeName', { description: 'Exactly as the IdP sends it' }),
    column: t.exposeString('column'),
    field: t.field({
      type: ContactFieldRef,
      resolve: (m) => CONTACT_FIELDS.find((f) => f.name === m.column)!,
    }),
    kind: t.exposeString('kind'),
    required: t.exposeBoolean('required'),
  }),
});

builder.queryField('contactFields', (t) =>
  t.field({
    type: [ContactFieldRef],
    description: 'The mappable contact columns and their types.',
    resolve: () => [...CONTACT_FIELDS],
  }),
);

const AddAttributeMappingInput = builder.inputType('AddAttributeMappingInput', {
  fields: (t) => ({
    connectionId: t.id({ required: true, description: 'IdpConnection id' }),
    attributeName: t.string({ required: true }),
    column: t.string({ required: true, description: 'A ContactField name' }),
    required: t.boolean({ description: 'Refuse a sign-in that lacks the attribute (default false)' }),
    position: t.int({ description: '0-based position; default last' }),
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
        addMapping(ctx.em, {
          ...input,
          connectionId: decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']),
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
      typedErrors(async () => {
        await removeMapping(ctx.em, decodeId(String(id), 'AttributeMapping', ['id']));
        return String(id);
      }),
  }),
);
