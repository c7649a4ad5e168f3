import { LicenseDecisionRef, MappingFallbackRef } from '../audit/audit.graphql.js';
import { builder } from '../graphql/builder.js';
import { SignInError, typedErrors } from '../graphql/errors.graphql.js';
import { License } from '../licenses/license.entity.js';
import { LicenseRef } from '../licenses/license.graphql.js';
import { Contact, User } from '../users/user.entity.js';
import { ContactRef, UserRef } from '../users/user.graphql.js';
import type { SignInFlow, SignInResult } from './flow.js';

declare module '../graphql/context.js' {
  interface Services {
    signIn: SignInFlow;
  }
}

const SignInResultRef = builder.objectRef<SignInResult>('SignInResult').implement({
  description: 'A completed sign-in: the (possibly just provisioned) user and a session token.',
  fields: (t) => ({
    created: t.exposeBoolean('created', { description: 'True when this sign-in provisioned the user' }),
    user: t.field({
      type: UserRef,
      resolve: (r, _args, ctx) => ctx.em.findOneOrFail(User, { id: r.userId }),
    }),
    contact: t.field({
      type: ContactRef,
      nullable: true,
      resolve: (r, _args, ctx) => (r.contactId ? ctx.em.findOne(Contact, { id: r.contactId }) : null),
    }),
    licensesGranted: t.field({
      type: [LicenseRef],
      description: 'Licenses granted by this sign-in (a full license is skipped, not an error)',
      resolve: (r, _args, ctx) =>
        r.licensesGranted.length === 0
          ? []
          : ctx.em.find(
              License,
              { id: { $in: r.licensesGranted.map((l) => l.id) } },
              { orderBy: { name: 'asc' } },
            ),
    }),
    fallbacks: t.field({
      type: [MappingFallbackRef],
      description: 'Mappings that failed and fell back by their failure policy (the sign-in went on)',
      resolve: (r) => r.fallbacks,
    }),
    licenseDecisions: t.field({
      type: [LicenseDecisionRef],
      description: 'What each license rule did: granted, held, skipped for want of a seat, revoked, left',
      resolve: (r) => r.licenseDecisions,
    }),
    roles: t.stringList({ description: 'The roles the user holds now, by name', resolve: (r) => r.roles }),
    groupOverage: t.exposeBoolean('groupOverage', {
      description:
        'The groups were unknown (Entra group overage): roles and group rules kept what the user held',
    }),
    sessionToken: t.string({
      description: 'Opaque bearer token for this user',
      resolve: (r) => r.session.token,
    }),
    sessionExpiresAt: t.field({ type: 'DateTime', resolve: (r) => r.session.expiresAt }),
    redirectTo: t.exposeString('redirectTo', {
      nullable: true,
      description: 'The relayState given, as an absolute URL of an allowed origin (null when none was given)',
    }),
  }),
});

const SamlAcsInput = builder.inputType('SamlAcsInput', {
  fields: (t) => ({
    samlResponse: t.string({ required: true, description: 'The base64 SAMLResponse as posted by the IdP' }),
    relayState: t.string({
      description:
        'The RelayState posted with it: a path or a URL of an allowed origin; anything else refuses the sign-in',
    }),
  }),
});

builder.mutationField('samlAcs', (t) =>
  t.field({
    type: SignInResultRef,
    nullable: true,
    description:
      'Hands over a SAML response received by a frontend; validated and provisioned like POST /saml/acs.',
    errors: { types: [SignInError] },
    args: { input: t.arg({ type: SamlAcsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(async () => {
        const result = await ctx.services.signIn.handle({
          samlResponse: input.samlResponse,
          relayState: input.relayState ?? null,
          via: 'GRAPHQL',
        });
        // The caller holds no session yet: let this response read what the sign-in returned.
        for (const id of [result.userId, result.contactId, ...result.licensesGranted.map((l) => l.id)]) {
          if (id) ctx.handedOver.add(id);
        }
        return result;
      }),
  }),
);
