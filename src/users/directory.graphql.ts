import { plainRows } from '../db/plain.js';
import { builder } from '../graphql/builder.js';
import { type CountedConnection, connectionOf, containsPattern } from '../graphql/connection.js';
import { decodeId } from '../graphql/ids.js';
import { Contact, User } from './user.entity.js';
import { ContactRef, UserRef, UserStatusEnum } from './user.graphql.js';

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

/** The SQL the trigram index in the migrations covers: keep the two in step. */
export const CONTACT_SEARCH_EXPR = `(coalesce(c.full_name, '') || ' ' || coalesce(c.email, ''))`;
const CONTACT_NAME_KEY = `lower(coalesce(c.full_name, ''))`;

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
        const where: string[] = [];
        const params: unknown[] = [];
        const f = args.filter;
        if (f?.search) {
          where.push(`${CONTACT_SEARCH_EXPR} ilike ?`);
          params.push(containsPattern(f.search));
        }
        for (const [value, sql] of [
          [f?.department, 'c.department = ?'],
          [f?.company, 'c.company = ?'],
          [f?.createdAfter, 'c.created_at >= ?'],
          [f?.createdBefore, 'c.created_at < ?'],
          [f?.updatedAfter, 'c.updated_at >= ?'],
          [f?.updatedBefore, 'c.updated_at < ?'],
        ] as const) {
          if (value !== null && value !== undefined) {
            where.push(sql);
            params.push(value);
          }
        }
        const byName = (args.orderBy?.field ?? 'NAME') === 'NAME';
        return connectionOf(
          ctx.em,
          {
            select: 'c.*',
            from: 'from contact c',
            where,
            params,
            sortExpr: byName ? CONTACT_NAME_KEY : 'c.created_at',
            idExpr: 'c.id',
            descending: args.orderBy?.direction === 'DESC',
          },
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

const USER_SORT = {
  USERNAME: 'u.username',
  CREATED_AT: 'u.created_at',
  // Never signed in sorts first ascending; keyset keys must not be null.
  LAST_SIGN_IN_AT: `coalesce(u.last_login_at, 'epoch'::timestamptz)`,
} as const;

builder.queryField('users', (t) =>
  t.connection(
    {
      type: UserRef,
      nullable: true,
      authScopes: { admin: true },
      description: 'Users (admins only); cursor (keyset) pagination.',
      args: { filter: t.arg({ type: UserFilter }), orderBy: t.arg({ type: UserOrder }) },
      resolve: (_root, args, ctx) => {
        const where: string[] = [];
        const params: unknown[] = [];
        const f = args.filter;
        if (f?.search) {
          where.push('u.username ilike ?');
          params.push(containsPattern(f.search));
        }
        if (f?.status) {
          where.push('u.status = ?');
          params.push(f.status);
        }
        if (f?.connectionId) {
          where.push('u.connection_id = ?');
          params.push(decodeId(String(f.connectionId), 'IdpConnection', ['filter', 'connectionId']));
        }
        if (f?.lastSignInAfter) {
          where.push('u.last_login_at >= ?');
          params.push(f.lastSignInAfter);
        }
        if (f?.lastSignInBefore) {
          where.push('u.last_login_at < ?');
          params.push(f.lastSignInBefore);
        }
        return connectionOf(
          ctx.em,
          {
            select: 'u.*',
            from: 'from app_user u',
            where,
            params,
            sortExpr: USER_SORT[args.orderBy?.field ?? 'USERNAME'],
            idExpr: 'u.id',
            descending: args.orderBy?.direction === 'DESC',
          },
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
