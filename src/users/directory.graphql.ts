import { plainRows } from '../db/plain.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { type CountedConnection, connectionOf, containsPattern } from '../graphql/connection.js';
import { decodeId } from '../graphql/ids.js';
import { loadCustomFields } from './contact-fields.js';
import { Contact, User } from './user.entity.js';
import { ContactRef, UserRef, UserStatusEnum } from './user.graphql.js';
import { contactList, userList } from './users.sql.js';

const SortDirection = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });
const ContactOrderField = builder.enumType('ContactOrderField', { values: ['NAME', 'CREATED_AT'] as const });
const UserOrderField = builder.enumType('UserOrderField', {
  values: ['USERNAME', 'CREATED_AT', 'LAST_SIGN_IN_AT'] as const,
});

const ContactOrder = builder.inputType('ContactOrder', {
  fields: (t) => ({
    field: t.field({ type: ContactOrderField, required: true }),
    direction: t.field({ type: SortDirection, defaultValue: 'ASC' }),
  }),
});

const CustomFieldCondition = builder.inputType('CustomFieldCondition', {
  description:
    "An admin-defined field's value, given as text and compared as the field's type (a list field: holds it)",
  fields: (t) => ({
    field: t.string({ required: true }),
    equals: t.string({ required: true }),
  }),
});

/** The conditions as one JSON object the contact's custom JSON must contain. */
async function customCondition(
  em: Parameters<typeof loadCustomFields>[0],
  conditions: readonly { field: string; equals: string }[],
): Promise<Record<string, unknown>> {
  const fields = await loadCustomFields(em);
  const out: Record<string, unknown> = {};
  conditions.forEach((c, i) => {
    const f = fields.find((x) => x.name === c.field);
    const path = ['filter', 'custom', i];
    if (!f)
      throw new AppError('VALIDATION_FAILED', `no admin-defined contact field is named "${c.field}"`, {
        path: [...path, 'field'],
      });
    const v = c.equals.trim();
    switch (f.type) {
      case 'NUMBER': {
        const n = Number(v);
        if (v === '' || !Number.isFinite(n))
          throw new AppError('VALIDATION_FAILED', `"${c.field}" is a NUMBER field`, {
            path: [...path, 'equals'],
          });
        out[f.name] = n;
        break;
      }
      case 'BOOLEAN':
        if (v !== 'true' && v !== 'false')
          throw new AppError('VALIDATION_FAILED', `"${c.field}" is a BOOLEAN field: true or false`, {
            path: [...path, 'equals'],
          });
        out[f.name] = v === 'true';
        break;
      case 'STRING_LIST':
        out[f.name] = [v];
        break;
      default:
        out[f.name] = v;
    }
  });
  return out;
}

const ContactFilter = builder.inputType('ContactFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Text in the name or email (case-insensitive)' }),
    custom: t.field({
      type: [CustomFieldCondition],
      description: 'Admin-defined field values (all must hold)',
    }),
    department: t.string(),
    company: t.string(),
    createdAfter: t.field({ type: 'DateTime' }),
    createdBefore: t.field({ type: 'DateTime' }),
    updatedAfter: t.field({ type: 'DateTime' }),
    updatedBefore: t.field({ type: 'DateTime' }),
  }),
});

builder.queryField('contacts', (t) =>
  t.connection(
    {
      type: ContactRef,
      nullable: true,
      authScopes: { user: true },
      description: 'Contacts, filtered and ordered; cursor (keyset) pagination.',
      args: {
        filter: t.arg({ type: ContactFilter }),
        orderBy: t.arg({ type: ContactOrder }),
      },
      resolve: async (_root, args, ctx) => {
        const f = args.filter;
        const custom = f?.custom?.length ? await customCondition(ctx.em, f.custom) : null;
        return connectionOf(
          ctx.em,
          contactList(
            { ...f, custom, searchPattern: f?.search ? containsPattern(f.search) : null },
            {
              byName: (args.orderBy?.field ?? 'NAME') === 'NAME',
              descending: args.orderBy?.direction === 'DESC',
            },
          ),
          args,
          plainRows(ctx.em, Contact),
        );
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          resolve: (conn) => (conn as unknown as CountedConnection<Contact>).totalCount(),
        }),
      }),
    },
  ),
);

const UserFilter = builder.inputType('UserFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Text in the username' }),
    status: t.field({ type: UserStatusEnum }),
    connectionId: t.id(),
    lastSignInAfter: t.field({ type: 'DateTime' }),
    lastSignInBefore: t.field({ type: 'DateTime' }),
  }),
});

const UserOrder = builder.inputType('UserOrder', {
  fields: (t) => ({
    field: t.field({ type: UserOrderField, required: true }),
    direction: t.field({ type: SortDirection, defaultValue: 'ASC' }),
  }),
});

builder.queryField('users', (t) =>
  t.connection(
    {
      type: UserRef,
      nullable: true,
      authScopes: { admin: true },
      description: 'Users (admins only); cursor (keyset) pagination.',
      args: { filter: t.arg({ type: UserFilter }), orderBy: t.arg({ type: UserOrder }) },
      resolve: (_root, args, ctx) => {
        const f = args.filter;
        return connectionOf(
          ctx.em,
          userList(
            {
              ...f,
              searchPattern: f?.search ? containsPattern(f.search) : null,
              connectionId: f?.connectionId
                ? decodeId(String(f.connectionId), 'IdpConnection', ['filter', 'connectionId'])
                : null,
            },
            { field: args.orderBy?.field ?? 'USERNAME', descending: args.orderBy?.direction === 'DESC' },
          ),
          args,
          plainRows(ctx.em, User),
        );
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({ resolve: (conn) => (conn as unknown as CountedConnection<User>).totalCount() }),
      }),
    },
  ),
);
