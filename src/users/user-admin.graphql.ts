import validator from 'validator';
import { adminChange } from '../audit/admin-audit.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { Session } from './session.entity.js';
import { Contact, User } from './user.entity.js';
import { UserRef } from './user.graphql.js';

const CreateUserInput = builder.inputType('CreateUserInput', {
  description:
    "A user made ahead of their first sign-in: that sign-in links to it by the connection's link policy (USERNAME: same username; EMAIL: same email; NEVER: refused).",
  fields: (t) => ({
    username: t.string({
      required: true,
      description: 'The NameID the person will sign in with (e.g. the UPN)',
    }),
    connectionId: t.id({ description: 'Reserve the user for this connection (default: any)' }),
    email: t.string(),
    fullName: t.string(),
  }),
});

builder.mutationField('createUser', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    authScopes: { admin: true },
    description: 'Pre-creates a user and contact, not yet bound to any identity key.',
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'user.create', async (em) => {
          const username = input.username.trim();
          if (!username || username.length > 512) {
            throw new AppError('VALIDATION_FAILED', 'a username is 1–512 characters', {
              path: ['input', 'username'],
            });
          }
          const email = input.email?.trim() || null;
          if (email && (email.length > 320 || !validator.isEmail(email, { allow_utf8_local_part: true }))) {
            throw new AppError('VALIDATION_FAILED', 'not an email address', { path: ['input', 'email'] });
          }
          let connection = null;
          if (input.connectionId) {
            const id = decodeId(String(input.connectionId), 'IdpConnection', ['input', 'connectionId']);
            connection = await em.findOne(IdpConnection, { id });
            if (!connection) {
              throw new AppError('NOT_FOUND', 'no IdP connection has that id', {
                path: ['input', 'connectionId'],
              });
            }
          }
          const user = em.create(User, { username, connection, status: 'ACTIVE', isAdmin: false });
          em.create(Contact, {
            user,
            email: email?.toLowerCase() ?? null,
            fullName: input.fullName?.trim().slice(0, 200) || null,
            custom: {},
          });
          try {
            await em.flush();
          } catch (e) {
            if (!isUniqueViolation(e)) throw e;
            throw new AppError('CONFLICT', `a user named "${username}" exists`, {
              path: ['input', 'username'],
            });
          }
          return { result: user, targetType: 'User', targetId: user.id, after: { username, email } };
        }),
      ),
  }),
);

for (const [field, status] of [
  ['blockUser', 'BLOCKED'],
  ['unblockUser', 'ACTIVE'],
] as const) {
  builder.mutationField(field, (t) =>
    t.field({
      type: UserRef,
      nullable: true,
      authScopes: { admin: true },
      description:
        status === 'BLOCKED'
          ? 'Blocks a user: their sessions end at once and their sign-ins are refused (USER_BLOCKED).'
          : 'Lets a blocked user sign in again.',
      errors: { types: [InputError] },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) =>
        typedErrors(() =>
          adminChange(ctx, status === 'BLOCKED' ? 'user.block' : 'user.unblock', async (em) => {
            const id = decodeId(String(args.id), 'User', ['id']);
            const user = await em.findOne(User, { id });
            if (!user) throw new AppError('NOT_FOUND', 'no user has this id', { path: ['id'] });
            const before = { status: user.status };
            user.status = status;
            if (status === 'BLOCKED') {
              // Sessions are also checked against the user's status; revoking them makes it final.
              await em.nativeUpdate(Session, { user: id, revokedAt: null }, { revokedAt: new Date() });
            }
            return { result: user, targetType: 'User', targetId: id, before, after: { status } };
          }),
        ),
    }),
  );
}

builder.mutationField('signOut', (t) =>
  t.boolean({
    authScopes: { user: true },
    nullable: true,
    description: 'Revokes the session of the token this request carries.',
    resolve: async (_root, _args, ctx) => {
      if (ctx.auth.kind !== 'user') return false;
      await ctx.em.nativeUpdate(
        Session,
        { id: ctx.auth.sessionId, revokedAt: null },
        { revokedAt: new Date() },
      );
      return true;
    },
  }),
);

builder.objectField(UserRef, 'identityKey', (t) =>
  t.string({
    nullable: true,
    authScopes: { admin: true },
    description:
      'The stable key the user is bound by (a connection with identityKey ATTRIBUTE); null: bound by username, or not bound yet (pre-created)',
    resolve: (u) => u.externalKey ?? null,
  }),
);
