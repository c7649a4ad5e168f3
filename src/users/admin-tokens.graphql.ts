import { actorOf, adminChange } from '../audit/admin-audit.js';
import { AdminToken } from '../auth/admin-token.entity.js';
import { ADMIN_TOKEN_PREFIX, newSessionToken } from '../auth/tokens.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';

const AdminTokenRef = builder.node(builder.objectRef<AdminToken>('AdminToken'), {
  description:
    'A named admin API token (the secret is shown once, at creation, and stored only hashed); changes made with it are audited by its name.',
  authScopes: { admin: true },
  id: { resolve: (t) => t.id },
  loadOne: (id, ctx) => ctx.em.findOne(AdminToken, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreatedAdminToken = builder
  .objectRef<{ token: AdminToken; secret: string }>('CreatedAdminToken')
  .implement({
    fields: (t) => ({
      adminToken: t.field({ type: AdminTokenRef, resolve: (c) => c.token }),
      secret: t.exposeString('secret', {
        description: 'The bearer token. Shown this once: store it now; jitprov keeps only its hash.',
      }),
    }),
  });

builder.queryField('adminTokens', (t) =>
  t.field({
    type: [AdminTokenRef],
    nullable: true,
    authScopes: { admin: true },
    description: 'Named admin API tokens, revoked ones included (newest first).',
    resolve: (_r, _a, ctx) => ctx.em.find(AdminToken, {}, { orderBy: { createdAt: 'desc', id: 'asc' } }),
  }),
);

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,79}$/;

builder.mutationField('createAdminToken', (t) =>
  t.field({
    type: CreatedAdminToken,
    nullable: true,
    authScopes: { admin: true },
    description: 'Makes a named admin API token; its secret is in the answer and nowhere else.',
    errors: { types: [InputError] },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'adminToken.create', async (em) => {
          const name = args.name.trim();
          if (!TOKEN_NAME.test(name)) {
            throw new AppError(
              'VALIDATION_FAILED',
              'a token name is 1–80 characters: letters, digits, space and . _ : @ -',
              { path: ['name'] },
            );
          }
          const { token: secret, hash } = newSessionToken(ADMIN_TOKEN_PREFIX);
          const token = em.create(AdminToken, { name, tokenHash: hash, createdBy: actorOf(ctx) });
          try {
            await em.flush();
          } catch (e) {
            if (!isUniqueViolation(e)) throw e;
            throw new AppError('CONFLICT', `an admin token named "${name}" exists`, { path: ['name'] });
          }
          // The audit row names the token, never its secret or hash.
          return {
            result: { token, secret },
            targetType: 'AdminToken',
            targetId: token.id,
            after: { name, createdBy: token.createdBy },
          };
        }),
      ),
  }),
);

builder.mutationField('revokeAdminToken', (t) =>
  t.field({
    type: AdminTokenRef,
    nullable: true,
    authScopes: { admin: true },
    description: 'Revokes a named admin token at once: requests bearing it are refused (UNAUTHENTICATED).',
    errors: { types: [InputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'adminToken.revoke', async (em) => {
          const id = decodeId(String(args.id), 'AdminToken', ['id']);
          const token = await em.findOne(AdminToken, { id });
          if (!token) throw new AppError('NOT_FOUND', 'no admin token has that id', { path: ['id'] });
          token.revokedAt ??= new Date();
          await em.flush();
          return {
            result: token,
            targetType: 'AdminToken',
            targetId: id,
            before: { name: token.name },
            after: { revokedAt: token.revokedAt },
          };
        }),
      ),
  }),
);
