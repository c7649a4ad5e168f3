import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { AttributeMappingRef } from '../mapping/mapping.graphql.js';
import { IdpConnection, type PinnedCertificate } from './connection.entity.js';
import { createConnection } from './connection.service.js';

const CertificateRef = builder.objectRef<PinnedCertificate>('SigningCertificate').implement({
  description: 'An IdP signing certificate pinned from its metadata (several during a rollover).',
  fields: (t) => ({
    subject: t.exposeString('subject'),
    fingerprintSha256: t.exposeString('fingerprintSha256'),
    notBefore: t.field({ type: 'DateTime', resolve: (c) => new Date(c.notBefore) }),
    notAfter: t.field({ type: 'DateTime', resolve: (c) => new Date(c.notAfter) }),
  }),
});

export const IdpConnectionRef = builder.node(builder.objectRef<IdpConnection>('IdpConnection'), {
  description: 'One IdP trust, created from the IdP federation metadata.',
  authScopes: { admin: true },
  id: { resolve: (c) => c.id },
  loadOne: (id, ctx) => ctx.em.findOne(IdpConnection, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    entityId: t.exposeString('entityId', {
      description: 'The IdP entity id; responses must carry it as Issuer',
    }),
    ssoRedirectUrl: t.exposeString('ssoRedirectUrl', { nullable: true }),
    ssoPostUrl: t.exposeString('ssoPostUrl', { nullable: true }),
    certificates: t.field({ type: [CertificateRef], resolve: (c) => c.certificates }),
    enabled: t.exposeBoolean('enabled'),
    jitEnabled: t.exposeBoolean('jitEnabled'),
    refreshOnLogin: t.exposeBoolean('refreshOnLogin'),
    idpInitiatedAllowed: t.exposeBoolean('idpInitiatedAllowed'),
    wantResponseSigned: t.exposeBoolean('wantResponseSigned'),
    clockSkewSeconds: t.exposeInt('clockSkewSeconds'),
    nameIdFormat: t.exposeString('nameIdFormat', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    mappings: t.field({
      type: [AttributeMappingRef],
      resolve: (c, _args, ctx) =>
        ctx.em.find(AttributeMapping, { connection: c.id }, { orderBy: { position: 'asc' } }),
    }),
  }),
});

builder.queryField('connections', (t) =>
  t.field({
    type: [IdpConnectionRef],
    nullable: true,
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.em.find(IdpConnection, {}, { orderBy: { name: 'asc' } }),
  }),
);

const CreateConnectionInput = builder.inputType('CreateConnectionInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    metadataXml: t.string({ required: true, description: 'The IdP federation metadata XML' }),
    entityId: t.string({ description: 'Which IdP to take when the metadata describes several' }),
    jitEnabled: t.boolean({ description: 'Create unknown users at first sign-in (default true)' }),
    refreshOnLogin: t.boolean({
      description: 'Refresh an existing user contact from the mappings (default false)',
    }),
    idpInitiatedAllowed: t.boolean({ description: 'Accept unsolicited responses (default true)' }),
    wantResponseSigned: t.boolean({
      description:
        'Also require the Response signature; the assertion signature is always required (default false)',
    }),
    clockSkewSeconds: t.int({ description: 'Allowed clock skew (default 60)' }),
  }),
});

builder.mutationField('createConnection', (t) =>
  t.field({
    type: IdpConnectionRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateConnectionInput, required: true }) },
    resolve: (_root, { input }, ctx) => typedErrors(() => createConnection(ctx.em, input)),
  }),
);
