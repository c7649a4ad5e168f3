import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { Context } from './context.js';

/** Configures Pothos; defines no types (those live with their domain in *.graphql.ts). */
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: { admin: boolean; user: boolean };
  Scalars: { DateTime: { Input: Date; Output: Date }; JSON: { Input: unknown; Output: unknown } };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, DataloaderPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      admin: ctx.auth.kind === 'admin' || (ctx.auth.kind === 'user' && ctx.auth.admin),
      user: ctx.auth.kind === 'user' || ctx.auth.kind === 'admin',
    }),
  },
  errors: { directResult: true },
  relay: { clientMutationId: 'omit', cursorType: 'String' },
});

builder.queryType({});
builder.mutationType({});
