import { adminChange, snapshot } from '../audit/admin-audit.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { ContactFieldDefinition, CustomFieldType } from '../users/contact-field.entity.js';
import { type ContactField, customField, isBuiltInField, loadCustomFields } from '../users/contact-fields.js';
import type { Contact } from '../users/user.entity.js';
import { ContactRef } from '../users/user.graphql.js';
import { AttributeMapping } from './mapping.entity.js';
import { ContactFieldRef, ContactFieldTypeEnum } from './mapping.graphql.js';

/**
 * Admin-defined contact fields: defined here, mapped like the built-in columns (a mapping's column
 * is the field's name), stored in the contact's `custom` JSON, and read typed through
 * Contact.customFields / Contact.custom(field:). A typed value object rather than one JSON scalar
 * keeps the schema honest: a client knows a NUMBER field comes back in `number`, a DATE in `date`.
 */

interface CustomValue {
  field: ContactField;
  value: unknown;
}

const CustomFieldValueRef = builder.objectRef<CustomValue>('CustomFieldValue').implement({
  description:
    "An admin-defined field's value on a contact. Exactly one of the value fields is set, by the field's type.",
  fields: (t) => ({
    field: t.field({ type: ContactFieldRef, resolve: (v) => v.field }),
    string: t.string({
      nullable: true,
      description: 'STRING and ENUM fields',
      resolve: (v) => (v.field.type === 'STRING' || v.field.type === 'ENUM' ? String(v.value) : null),
    }),
    number: t.float({
      nullable: true,
      description: 'NUMBER fields',
      resolve: (v) => (v.field.type === 'NUMBER' && typeof v.value === 'number' ? v.value : null),
    }),
    boolean: t.boolean({
      nullable: true,
      description: 'BOOLEAN fields',
      resolve: (v) => (v.field.type === 'BOOLEAN' && typeof v.value === 'boolean' ? v.value : null),
    }),
    date: t.string({
      nullable: true,
      description: 'DATE fields, as an ISO 8601 date (YYYY-MM-DD)',
      resolve: (v) => (v.field.type === 'DATE' ? String(v.value) : null),
    }),
    strings: t.stringList({
      nullable: true,
      description: 'STRING_LIST fields',
      resolve: (v) => (v.field.type === 'STRING_LIST' && Array.isArray(v.value) ? v.value.map(String) : null),
    }),
  }),
});

const customOf = (c: Contact): Record<string, unknown> => (c.custom ?? {}) as Record<string, unknown>;

builder.objectField(ContactRef, 'customFields', (t) =>
  t.field({
    type: [CustomFieldValueRef],
    description: 'The admin-defined fields that have a value on this contact, by field name.',
    resolve: async (c, _a, ctx) => {
      const values = customOf(c);
      return (await loadCustomFields(ctx.em))
        .filter((f) => values[f.name] !== undefined && values[f.name] !== null)
        .map((field) => ({ field, value: values[field.name] }));
    },
  }),
);

builder.objectField(ContactRef, 'custom', (t) =>
  t.field({
    type: CustomFieldValueRef,
    nullable: true,
    description: 'One admin-defined field by name (null when the contact has no value for it).',
    args: { field: t.arg.string({ required: true }) },
    resolve: async (c, args, ctx) => {
      const field = (await loadCustomFields(ctx.em)).find((f) => f.name === args.field);
      if (!field) {
        throw new AppError('VALIDATION_FAILED', `no admin-defined contact field is named "${args.field}"`, {
          path: ['field'],
        });
      }
      const value = customOf(c)[field.name];
      return value === undefined || value === null ? null : { field, value };
    },
  }),
);

const FIELD_NAME = /^[a-z][a-zA-Z0-9_]{0,63}$/;
const MAX_ENUM_VALUES = 200;

function checkEnumValues(type: string, values: readonly string[] | null | undefined): string[] | null {
  if (type !== 'ENUM') {
    if (values && values.length > 0) {
      throw new AppError('CONTACT_FIELD_INVALID', `a ${type} field takes no enumValues`, {
        path: ['input', 'enumValues'],
      });
    }
    return null;
  }
  const list = (values ?? []).map((v) => v.trim());
  if (list.length === 0 || list.some((v) => v === '' || v.length > 256)) {
    throw new AppError('CONTACT_FIELD_INVALID', 'an ENUM field needs its values (1–256 characters each)', {
      path: ['input', 'enumValues'],
    });
  }
  if (new Set(list).size !== list.length) {
    throw new AppError('CONTACT_FIELD_INVALID', 'an ENUM field lists each value once', {
      path: ['input', 'enumValues'],
    });
  }
  if (list.length > MAX_ENUM_VALUES) {
    throw new AppError('CONTACT_FIELD_INVALID', `an ENUM field has at most ${MAX_ENUM_VALUES} values`, {
      path: ['input', 'enumValues'],
    });
  }
  return list;
}

const CreateContactFieldInput = builder.inputType('CreateContactFieldInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'camelCase, e.g. costCenter; not a built-in field name' }),
    label: t.string({ required: true }),
    type: t.field({ type: ContactFieldTypeEnum, required: true }),
    enumValues: t.stringList({ description: 'The values of an ENUM field' }),
    description: t.string(),
  }),
});

builder.mutationField('createContactField', (t) =>
  t.field({
    type: ContactFieldRef,
    nullable: true,
    authScopes: { admin: true },
    description:
      'Defines a contact field (STRING, NUMBER, BOOLEAN, DATE, ENUM, STRING_LIST): mappable at once, stored in the contact, readable through Contact.custom.',
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateContactFieldInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'contactField.create', async (em) => {
          const name = input.name.trim();
          if (!FIELD_NAME.test(name)) {
            throw new AppError(
              'CONTACT_FIELD_INVALID',
              'a field name is camelCase: a lower-case letter, then letters, digits or _ (at most 64)',
              { path: ['input', 'name'] },
            );
          }
          if (isBuiltInField(name)) {
            throw new AppError('CONTACT_FIELD_INVALID', `"${name}" is a built-in contact field`, {
              path: ['input', 'name'],
            });
          }
          if (!(CustomFieldType as readonly string[]).includes(input.type)) {
            throw new AppError(
              'CONTACT_FIELD_INVALID',
              `an admin-defined field is one of ${CustomFieldType.join(', ')}`,
              { path: ['input', 'type'] },
            );
          }
          const label = input.label.trim();
          if (!label || label.length > 200) {
            throw new AppError('CONTACT_FIELD_INVALID', 'a label is 1–200 characters', {
              path: ['input', 'label'],
            });
          }
          if (await em.findOne(ContactFieldDefinition, { name })) {
            throw new AppError('CONFLICT', `a contact field named "${name}" exists`, {
              path: ['input', 'name'],
            });
          }
          const definition = em.create(ContactFieldDefinition, {
            name,
            label,
            type: input.type as CustomFieldType,
            enumValues: checkEnumValues(input.type, input.enumValues),
            description: (input.description ?? '').trim().slice(0, 500),
          });
          await em.flush();
          return {
            result: customField(definition),
            targetType: 'ContactField',
            targetId: definition.id,
            after: definition,
          };
        }),
      ),
  }),
);

const UpdateContactFieldInput = builder.inputType('UpdateContactFieldInput', {
  description:
    'Only the fields given change. An ENUM field may gain values, not lose them while a mapping default uses one.',
  fields: (t) => ({
    name: t.string({ required: true }),
    label: t.string(),
    description: t.string(),
    enumValues: t.stringList(),
  }),
});

async function definitionNamed(em: Parameters<typeof loadCustomFields>[0], name: string) {
  const d = await em.findOne(ContactFieldDefinition, { name });
  if (!d)
    throw new AppError('NOT_FOUND', `no admin-defined contact field is named "${name}"`, {
      path: ['input', 'name'],
    });
  return d;
}

builder.mutationField('updateContactField', (t) =>
  t.field({
    type: ContactFieldRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: UpdateContactFieldInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'contactField.update', async (em) => {
          const d = await definitionNamed(em, input.name);
          const before = snapshot(d);
          if (input.label !== null && input.label !== undefined) {
            const label = input.label.trim();
            if (!label || label.length > 200) {
              throw new AppError('CONTACT_FIELD_INVALID', 'a label is 1–200 characters', {
                path: ['input', 'label'],
              });
            }
            d.label = label;
          }
          if (input.description !== null && input.description !== undefined) {
            d.description = input.description.trim().slice(0, 500);
          }
          if (input.enumValues) {
            const values = checkEnumValues(d.type, input.enumValues) ?? [];
            const dropped = (d.enumValues ?? []).filter((v) => !values.includes(v));
            const defaults = await em.find(AttributeMapping, { column: d.name });
            const used = defaults.find((m) => {
              const dv = m.defaultValue;
              return (Array.isArray(dv) ? dv : [dv]).some((v) => dropped.includes(String(v)));
            });
            if (used) {
              throw new AppError(
                'CONTACT_FIELD_IN_USE',
                `a mapping's default value uses "${String(used.defaultValue)}": change that mapping first`,
                { path: ['input', 'enumValues'] },
              );
            }
            d.enumValues = values;
          }
          await em.flush();
          return { result: customField(d), targetType: 'ContactField', targetId: d.id, before, after: d };
        }),
      ),
  }),
);

builder.mutationField('removeContactField', (t) =>
  t.field({
    type: 'String',
    nullable: true,
    authScopes: { admin: true },
    description:
      "Removes an admin-defined field (its values stay in the contacts' custom JSON, unread). Refused while a mapping targets it.",
    errors: { types: [InputError], directResult: false },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'contactField.remove', async (em) => {
          const d = await definitionNamed(em, args.name);
          const users = await em.count(AttributeMapping, { column: d.name });
          if (users > 0) {
            throw new AppError(
              'CONTACT_FIELD_IN_USE',
              `${users} attribute mapping(s) write "${d.name}": remove or change them first`,
              { path: ['name'], mappings: users },
            );
          }
          const before = snapshot(d);
          await em.nativeDelete(ContactFieldDefinition, { id: d.id });
          return { result: d.name, targetType: 'ContactField', targetId: d.id, before };
        }),
      ),
  }),
);
