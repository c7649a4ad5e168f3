import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';

/**
 * The attributes a person's latest accepted sign-in carried, per connection: the samples a mapping
 * change is checked against before it is saved (so that it cannot refuse people who signed in fine
 * unnoticed). Personal data: read by admins only, kept for the connection's retention and bounded
 * by its sample size. Written by the provisioning transaction.
 */
export const SignInSample = defineEntity({
  name: 'SignInSample',
  tableName: 'sign_in_sample',
  indexes: [
    { name: 'sign_in_sample_connection_id_signed_in_at_index', properties: ['connection', 'signedInAt'] },
  ],
  properties: {
    connection: p.manyToOne(IdpConnection).primary().deleteRule('cascade'),
    nameId: p.string().length(512).primary(),
    attributes: p.json<Record<string, string[]>>(),
    signedInAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});
export type SignInSample = InferEntity<typeof SignInSample>;
