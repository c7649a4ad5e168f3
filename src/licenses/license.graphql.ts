import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { License } from './license.entity.js';
import { createLicense } from './license.service.js';

export const LicenseRef = builder.node(builder.objectRef<License>('License'), {
  description: 'A product license; every new user gets each active license with a free seat.',
  authScopes: (record, ctx) => ctx.handedOver.has(record.id) || { user: true },
  id: { resolve: (l) => l.id },
  loadOne: (id, ctx) => ctx.em.findOne(License, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    seats: t.exposeInt('seats', { nullable: true, description: 'Seat limit; null means unlimited' }),
    used: t.exposeInt('used'),
    available: t.int({
      nullable: true,
      description: 'Free seats; null means unlimited',
      resolve: (l) => (l.seats === null || l.seats === undefined ? null : l.seats - l.used),
    }),
    active: t.exposeBoolean('active'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('licenses', (t) =>
  t.field({
    type: [LicenseRef],
    nullable: true,
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.em.find(License, {}, { orderBy: { name: 'asc' } }),
  }),
);

const CreateLicenseInput = builder.inputType('CreateLicenseInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    seats: t.int({ description: 'Seat limit; omit for unlimited' }),
  }),
});

builder.mutationField('createLicense', (t) =>
  t.field({
    type: LicenseRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateLicenseInput, required: true }) },
    resolve: (_root, { input }, ctx) => typedErrors(() => createLicense(ctx.em, input)),
  }),
);
