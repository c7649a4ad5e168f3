import { adminChange } from '../audit/admin-audit.js';
import { newSessionToken, SCIM_TOKEN_PREFIX } from '../auth/tokens.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { IdpConnectionRef } from '../connections/connection.graphql.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { ScimToken } from './scim.entity.js';

const ScimTokenRef = builder.node(builder.objectRef<ScimToken>('ScimToken'), {
  description:
    "A bearer token the IdP's SCIM client presents at /scim/v2 (it names the connection). Shown once, stored hashed; several may be live during a rotation.",
  authScopes: { admin: true },
  id: { resolve: (t) => t.id },
  loadOne: (id, ctx) => ctx.em.findOne(ScimToken, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.objectField(IdpConnectionRef, 'scimTokens', (t) =>
  t.field({
    type: [ScimTokenRef],
    authScopes: { admin: true },
    description: "The connection's SCIM tokens, revoked ones included (newest first)",
    resolve: (c, _a, ctx) =>
      ctx.em.find(ScimToken, { connection: c.id }, { orderBy: { createdAt: 'desc', id: 'asc' } }),
  }),
);

const CreatedScimToken = builder
  .objectRef<{ token: ScimToken; secret: string }>('CreatedScimToken')
  .implement({
    fields: (t) => ({
      scimToken: t.field({ type: ScimTokenRef, resolve: (c) => c.token }),
      secret: t.exposeString('secret', {
        description:
          "The bearer token for the IdP's provisioning settings (Entra: Secret Token). Shown this once.",
      }),
      baseUrl: t.string({
        description: 'The SCIM base URL (Entra: Tenant URL)',
        resolve: (_c, _a, ctx) => `${ctx.config.publicUrl}/scim/v2`,
      }),
    }),
  });

builder.mutationField('createScimToken', (t) =>
  t.field({
    type: CreatedScimToken,
    nullable: true,
    authScopes: { admin: true },
    description: 'Makes a SCIM token for a connection (and switches SCIM on for it).',
    errors: { types: [InputError] },
    args: { connectionId: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'scimToken.create', async (em) => {
          const id = decodeId(String(args.connectionId), 'IdpConnection', ['connectionId']);
          const connection = await em.findOne(IdpConnection, { id });
          if (!connection)
            throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['connectionId'] });
          const name = args.name.trim();
          if (!name || name.length > 80)
            throw new AppError('VALIDATION_FAILED', 'a token name is 1–80 characters', { path: ['name'] });
          const { token: secret, hash } = newSessionToken(SCIM_TOKEN_PREFIX);
          const token = em.create(ScimToken, { connection, name, tokenHash: hash });
          connection.scimEnabled = true;
          await em.flush();
          return {
            result: { token, secret },
            targetType: 'ScimToken',
            targetId: token.id,
            after: { name, connectionId: id },
          };
        }),
      ),
  }),
);

builder.mutationField('revokeScimToken', (t) =>
  t.field({
    type: ScimTokenRef,
    nullable: true,
    authScopes: { admin: true },
    description:
      'Revokes a SCIM token at once (rotate: create the new one, switch the IdP to it, revoke the old).',
    errors: { types: [InputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'scimToken.revoke', async (em) => {
          const id = decodeId(String(args.id), 'ScimToken', ['id']);
          const token = await em.findOne(ScimToken, { id });
          if (!token) throw new AppError('NOT_FOUND', 'no SCIM token has that id', { path: ['id'] });
          token.revokedAt ??= new Date();
          await em.flush();
          return {
            result: token,
            targetType: 'ScimToken',
            targetId: id,
            after: { revokedAt: token.revokedAt },
          };
        }),
      ),
  }),
);
