import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../graphql/builder.js';
import { type CountedConnection, connectionOf } from '../graphql/connection.js';
import { ErrorCodeEnum } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { JsonScalar } from '../graphql/scalars.js';
import { AdminAuditEvent } from './admin-audit.entity.js';
import { adminAuditEventList, provisioningEventList } from './audit.sql.js';
import {
  type LicenseDecision,
  type MappingFallback,
  ProvisioningEvent,
  ProvisioningOutcome,
} from './provisioning-event.entity.js';

const OutcomeEnum = builder.enumType('ProvisioningOutcome', { values: ProvisioningOutcome });

export const MappingFallbackRef = builder.objectRef<MappingFallback>('MappingFallback').implement({
  description: 'A mapping that failed and fell back by its failure policy instead of refusing the sign-in.',
  fields: (t) => ({
    mappingId: t.id({
      description: 'The AttributeMapping',
      resolve: (f) => encodeGlobalID('AttributeMapping', f.mappingId),
    }),
    column: t.exposeString('column'),
    policy: t.exposeString('policy', { description: 'KEEP (the column was left as it was) or DEFAULT' }),
    code: t.field({ type: ErrorCodeEnum, resolve: (f) => f.code }),
    message: t.exposeString('message'),
  }),
});

const LicenseDecisionEnum = builder.enumType('LicenseDecisionKind', {
  values: {
    GRANTED: { description: 'A rule matched and a seat was taken' },
    HELD: { description: 'A rule matched and the user already held the license' },
    NO_SEAT: { description: 'A rule matched, no seat was free, and the rule lets the sign-in in without it' },
    REVOKED: { description: 'The rule no longer holds and takes the license back' },
    NOT_MATCHED: { description: 'The rule does not hold; the license was left as it was' },
    UNKNOWN: {
      description:
        'The rule could not be evaluated (the groups were unknown, or its expression failed); the license was left as it was',
    },
  },
});

export const LicenseDecisionRef = builder.objectRef<LicenseDecision>('LicenseDecision').implement({
  description: 'What one license rule did at a sign-in (rule null: the connection has no rules).',
  fields: (t) => ({
    licenseId: t.id({ resolve: (d) => encodeGlobalID('License', d.licenseId) }),
    license: t.exposeString('license', { description: 'The license name' }),
    ruleId: t.id({
      nullable: true,
      resolve: (d) => (d.ruleId ? encodeGlobalID('LicenseRule', d.ruleId) : null),
    }),
    decision: t.field({ type: LicenseDecisionEnum, resolve: (d) => d.decision }),
  }),
});

const ProvisioningEventRef = builder.node(builder.objectRef<ProvisioningEvent>('ProvisioningEvent'), {
  description: 'The audit row of one ACS handoff.',
  authScopes: { admin: true },
  id: { resolve: (e) => e.id },
  loadOne: (id, ctx) => ctx.em.findOne(ProvisioningEvent, { id }),
  fields: (t) => ({
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    outcome: t.field({ type: OutcomeEnum, resolve: (e) => e.outcome }),
    nameId: t.exposeString('nameId', { nullable: true }),
    issuer: t.exposeString('issuer', { nullable: true }),
    assertionId: t.exposeString('assertionId', { nullable: true }),
    connectionId: t.exposeString('connectionId', { nullable: true }),
    userId: t.exposeString('userId', { nullable: true }),
    via: t.exposeString('via'),
    errorCode: t.field({
      type: ErrorCodeEnum,
      nullable: true,
      resolve: (e) => (e.errorCode ?? null) as never,
    }),
    errorMessage: t.exposeString('errorMessage', { nullable: true }),
    changes: t.field({
      type: JsonScalar,
      description: 'Field changes: column, old, new, mappingId',
      resolve: (e) => e.changes,
    }),
    licensesGranted: t.exposeStringList('licensesGranted'),
    fallbacks: t.field({
      type: [MappingFallbackRef],
      description: 'Mappings that failed and fell back by their failure policy',
      resolve: (e) => e.fallbacks ?? [],
    }),
    licenseDecisions: t.field({
      type: [LicenseDecisionRef],
      description: 'What each license rule granted, held, skipped for want of a seat, revoked or left',
      resolve: (e) => e.licenseDecisions ?? [],
    }),
    roles: t.stringList({
      nullable: true,
      description: 'The roles the user held after it (null on a refusal)',
      resolve: (e) => e.roles ?? null,
    }),
    groupOverage: t.exposeBoolean('groupOverage', {
      description:
        'The IdP sent a group overage claim instead of the groups: roles and group rules kept what the user held',
    }),
  }),
});

const ProvisioningEventFilter = builder.inputType('ProvisioningEventFilter', {
  fields: (t) => ({
    outcome: t.field({ type: OutcomeEnum }),
    connectionId: t.id(),
    userId: t.id(),
    nameId: t.string(),
    after: t.field({ type: 'DateTime', description: 'Events at or after this instant' }),
    before: t.field({ type: 'DateTime', description: 'Events before this instant' }),
  }),
});

builder.queryField('provisioningEvents', (t) =>
  t.connection(
    {
      type: ProvisioningEventRef,
      nullable: true,
      authScopes: { admin: true },
      description: 'Sign-in audit events, newest first (admins only).',
      args: { filter: t.arg({ type: ProvisioningEventFilter }) },
      resolve: (_root, args, ctx) => {
        const f = args.filter;
        const query = provisioningEventList({
          ...f,
          connectionId: f?.connectionId
            ? decodeId(String(f.connectionId), 'IdpConnection', ['filter', 'connectionId'])
            : null,
          userId: f?.userId ? decodeId(String(f.userId), 'User', ['filter', 'userId']) : null,
        });
        return connectionOf(ctx.em, query, args, (row) => ctx.em.map(ProvisioningEvent, row));
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          resolve: (conn) => (conn as unknown as CountedConnection<ProvisioningEvent>).totalCount(),
        }),
      }),
    },
  ),
);

const AdminAuditEventRef = builder.node(builder.objectRef<AdminAuditEvent>('AdminAuditEvent'), {
  description: 'One admin change: actor, action, target, before and after.',
  authScopes: { admin: true },
  id: { resolve: (e) => e.id },
  loadOne: (id, ctx) => ctx.em.findOne(AdminAuditEvent, { id }),
  fields: (t) => ({
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    actor: t.exposeString('actor'),
    action: t.exposeString('action'),
    targetType: t.exposeString('targetType'),
    targetId: t.exposeString('targetId', { nullable: true }),
    before: t.field({ type: JsonScalar, nullable: true, resolve: (e) => e.before ?? null }),
    after: t.field({ type: JsonScalar, nullable: true, resolve: (e) => e.after ?? null }),
  }),
});

builder.queryField('adminAuditEvents', (t) =>
  t.connection(
    {
      type: AdminAuditEventRef,
      nullable: true,
      authScopes: { admin: true },
      description: 'Admin changes, newest first (admins only).',
      args: { action: t.arg.string(), targetId: t.arg.string() },
      resolve: (_root, args, ctx) =>
        connectionOf(ctx.em, adminAuditEventList(args), args, (row) => ctx.em.map(AdminAuditEvent, row)),
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          resolve: (conn) => (conn as unknown as CountedConnection<AdminAuditEvent>).totalCount(),
        }),
      }),
    },
  ),
);
