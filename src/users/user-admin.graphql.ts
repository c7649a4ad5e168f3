import { adminChange } from '../audit/admin-audit.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { Session } from './session.entity.js';
import { User } from './user.entity.js';
import { UserRef } from './user.graphql.js';

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
