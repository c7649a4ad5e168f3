import { adminChange } from '../audit/admin-audit.js';
import { builder } from '../graphql/builder.js';
import { type CountedConnection, connectionOf } from '../graphql/connection.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { UserRef } from '../users/user.graphql.js';
import { License } from './license.entity.js';
import { createLicense, grantLicense, revokeLicense, updateLicense } from './license.service.js';
import { licenseList, licensesByUserIds } from './licenses.sql.js';

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

builder.objectField(UserRef, 'licenses', (t) =>
  t.loadableList({
    type: LicenseRef,
    description: 'Licenses granted to this user',
    load: (ids: string[], ctx) => licensesByUserIds(ctx.em, ids),
    resolve: (u) => u.id,
  }),
);

builder.queryField('licenses', (t) =>
  t.connection(
    {
      type: LicenseRef,
      nullable: true,
      authScopes: { admin: true },
      args: { active: t.arg.boolean({ description: 'Only active (true) or inactive (false) licenses' }) },
      resolve: (_root, args, ctx) =>
        connectionOf(ctx.em, licenseList({ active: args.active }), args, (row) => ctx.em.map(License, row)),
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          resolve: (conn) => (conn as unknown as CountedConnection<License>).totalCount(),
        }),
      }),
    },
  ),
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
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'license.create', async (em) => {
          const license = await createLicense(em, input);
          return { result: license, targetType: 'License', targetId: license.id, after: license };
        }),
      ),
  }),
);

const UpdateLicenseInput = builder.inputType('UpdateLicenseInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    seats: t.int({ description: 'New seat limit; refused below the seats in use' }),
    unlimited: t.boolean({ description: 'Remove the seat limit' }),
    active: t.boolean({ description: 'An inactive license is granted to nobody new' }),
  }),
});

builder.mutationField('updateLicense', (t) =>
  t.field({
    type: LicenseRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: UpdateLicenseInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'license.update', async (em) => {
          const id = decodeId(String(input.id), 'License', ['input', 'id']);
          const before = await em.findOne(License, { id });
          const beforeSnapshot = before ? { ...before } : null;
          const after = await updateLicense(em, id, { ...input, id: undefined });
          return { result: after, targetType: 'License', targetId: id, before: beforeSnapshot, after };
        }),
      ),
  }),
);

const LicenseGrantInput = builder.inputType('LicenseGrantInput', {
  fields: (t) => ({ licenseId: t.id({ required: true }), userId: t.id({ required: true }) }),
});

for (const [field, action, run] of [
  ['grantLicense', 'license.grant', grantLicense],
  ['revokeLicense', 'license.revoke', revokeLicense],
] as const) {
  builder.mutationField(field, (t) =>
    t.field({
      type: LicenseRef,
      nullable: true,
      authScopes: { admin: true },
      errors: { types: [InputError] },
      args: { input: t.arg({ type: LicenseGrantInput, required: true }) },
      resolve: (_root, { input }, ctx) =>
        typedErrors(() =>
          adminChange(ctx, action, async (em) => {
            const licenseId = decodeId(String(input.licenseId), 'License', ['input', 'licenseId']);
            const userId = decodeId(String(input.userId), 'User', ['input', 'userId']);
            await run(em, licenseId, userId);
            const license = await em.findOneOrFail(License, { id: licenseId }, { refresh: true });
            return {
              result: license,
              targetType: 'License',
              targetId: licenseId,
              after: { userId, used: license.used },
            };
          }),
        ),
    }),
  );
}
