import { builder } from '../graphql/builder.js';
import { LicenseGrant } from '../licenses/license.entity.js';
import { LicenseRef } from '../licenses/license.graphql.js';
import { CONTACT_FIELDS } from '../mapping/contact-fields.js';
import { Contact, User } from './user.entity.js';

const UserStatusEnum = builder.enumType('UserStatus', { values: ['ACTIVE', 'BLOCKED'] as const });

type ContactRow = Contact & Record<string, unknown>;

export const ContactRef = builder.node(builder.objectRef<Contact>('Contact'), {
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
  }),
});

export const UserRef = builder.node(builder.objectRef<User>('User'), {
  description: 'An account; username is the NameID sent by the IdP.',
  authScopes: (record, ctx) => ctx.handedOver.has(record.id) || { user: true },
  id: { resolve: (u) => u.id },
  loadOne: (id, ctx) => ctx.em.findOne(User, { id }),
  fields: (t) => ({
    username: t.exposeString('username'),
    status: t.field({ type: UserStatusEnum, resolve: (u) => u.status }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true }),
    contact: t.field({
      type: ContactRef,
      nullable: true,
      resolve: (u, _args, ctx) => ctx.em.findOne(Contact, { user: u.id }),
    }),
    licenses: t.field({
      type: [LicenseRef],
      resolve: async (u, _args, ctx) => {
        const grants = await ctx.em.find(LicenseGrant, { user: u.id }, { populate: ['license'] });
        return grants.map((g) => g.license).sort((a, b) => a.name.localeCompare(b.name));
      },
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
