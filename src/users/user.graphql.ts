import { builder } from '../graphql/builder.js';
import { CONTACT_FIELDS } from './contact-fields.js';
import { Contact, User } from './user.entity.js';
import { contactsByUserIds, usersByIds } from './users.sql.js';

export const UserStatusEnum = builder.enumType('UserStatus', { values: ['ACTIVE', 'BLOCKED'] as const });

type Row = Record<string, unknown>;
type ContactRow = Contact & Row;

const userId = (c: Contact): string => (typeof c.user === 'string' ? c.user : c.user.id);

// Declared first: the two types refer to each other.
export const ContactRef = builder.objectRef<Contact>('Contact');
export const UserRef = builder.objectRef<User>('User');

builder.node(ContactRef, {
  description: 'The person record of a user; columns filled by the connection attribute mappings.',
  authScopes: (record, ctx) => ctx.handedOver.has(record.id) || { user: true },
  id: { resolve: (c) => c.id },
  loadOne: (id, ctx) => ctx.em.findOne(Contact, { id }),
  fields: (t) => ({
    ...Object.fromEntries(
      CONTACT_FIELDS.map((f) => [
        f.name,
        f.multiValued
          ? t.stringList({
              nullable: true,
              description: f.description,
              resolve: (c) => ((c as ContactRow)[f.name] as string[] | null) ?? null,
            })
          : t.string({
              nullable: true,
              description: f.description,
              resolve: (c) => ((c as ContactRow)[f.name] as string | null) ?? null,
            }),
      ]),
    ),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    user: t.loadable({
      type: UserRef,
      description: 'The account this contact belongs to',
      // One query for every contact of a page (DataLoader), not one per contact.
      load: (ids: string[], ctx) => usersByIds(ctx.em, ids),
      sort: (u) => u.id,
      resolve: (c) => userId(c),
    }),
  }),
});

builder.node(UserRef, {
  description: 'An account; username is the NameID sent by the IdP.',
  authScopes: (record, ctx) => ctx.handedOver.has(record.id) || { user: true },
  id: { resolve: (u) => u.id },
  loadOne: (id, ctx) => ctx.em.findOne(User, { id }),
  fields: (t) => ({
    username: t.exposeString('username'),
    status: t.field({ type: UserStatusEnum, resolve: (u) => u.status }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true }),
    contact: t.loadable({
      type: ContactRef,
      nullable: true,
      load: async (ids: string[], ctx) => {
        const contacts = await contactsByUserIds(ctx.em, ids);
        const byUser = new Map(contacts.map((c) => [userId(c), c]));
        return ids.map((id) => byUser.get(id) ?? null);
      },
      resolve: (u) => u.id,
    }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user (null for admins and anonymous callers).',
    resolve: (_root, _args, ctx) =>
      ctx.auth.kind === 'user' ? ctx.em.findOne(User, { id: ctx.auth.userId }) : null,
  }),
);
