import { plainRows } from '../db/plain.js';
import { builder } from '../graphql/builder.js';
import { type CountedConnection, connectionOf, containsPattern } from '../graphql/connection.js';
import { decodeId } from '../graphql/ids.js';
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

const ContactFilter = builder.inputType('ContactFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Text in the name or email (case-insensitive)' }),
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
      resolve: (_root, args, ctx) => {
        const f = args.filter;
        return connectionOf(
          ctx.em,
          contactList(
            { ...f, searchPattern: f?.search ? containsPattern(f.search) : null },
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
