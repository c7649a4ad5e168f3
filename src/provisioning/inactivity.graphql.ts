import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../graphql/builder.js';
import { decodeId } from '../graphql/ids.js';
import { User } from '../users/user.entity.js';
import { UserRef } from '../users/user.graphql.js';
import type { InactivityPolicy, InactivityRun } from './inactivity.js';
import { type InactiveRow, inactiveUsers } from './inactivity.sql.js';

declare module '../graphql/context.js' {
  interface Services {
    inactivity: InactivityPolicy;
  }
}

const InactiveUserRef = builder.objectRef<InactiveRow>('InactiveUser').implement({
  description: 'A user the inactivity policy would act on at its next run.',
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (r, _a, ctx) => ctx.em.findOneOrFail(User, { id: r.user_id }) }),
    connectionId: t.id({ resolve: (r) => encodeGlobalID('IdpConnection', r.connection_id) }),
    lastSignInAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (r) => (r.last_login_at === null ? null : new Date(r.last_login_at)),
    }),
    willBlock: t.boolean({ resolve: (r) => r.block }),
    willReleaseSeats: t.boolean({ resolve: (r) => r.release }),
  }),
});

builder.queryField('inactiveUsers', (t) =>
  t.field({
    type: [InactiveUserRef],
    nullable: true,
    authScopes: { admin: true },
    description:
      'Dry run of the inactivity policy: who it would block or free seats of now (connections with inactivityDays), longest inactive first. Changes nothing.',
    args: {
      connectionId: t.arg.id(),
      first: t.arg.int({ description: 'At most this many (default 100, at most 1000)' }),
    },
    resolve: (_r, args, ctx) =>
      inactiveUsers(
        ctx.em,
        args.connectionId ? decodeId(String(args.connectionId), 'IdpConnection', ['connectionId']) : null,
        Math.min(Math.max(args.first ?? 100, 1), 1000),
      ),
  }),
);

const InactivityRunRef = builder.objectRef<InactivityRun>('InactivityRun').implement({
  fields: (t) => ({
    ran: t.exposeBoolean('ran', {
      description: 'false: another process was running the policy at that moment',
    }),
    blocked: t.exposeInt('blocked'),
    seatsReleased: t.exposeInt('seatsReleased'),
  }),
});

builder.mutationField('runInactivityPolicy', (t) =>
  t.field({
    type: InactivityRunRef,
    nullable: true,
    authScopes: { admin: true },
    description:
      'Runs the inactivity policy now (the server also runs it on a schedule); every action is an admin audit row.',
    resolve: (_r, _a, ctx) => ctx.services.inactivity.run(),
  }),
);
