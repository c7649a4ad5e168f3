import { adminChange, snapshot } from '../audit/admin-audit.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { IdpConnection, type PinnedCertificate } from './connection.entity.js';
import {
  createConnection,
  type IdpMetadataPreview,
  previewMetadata,
  updateConnection,
} from './connection.service.js';

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
    nameIdFormat: t.exposeString('nameIdFormat', {
      nullable: true,
      description:
        'The NameID Format responses must carry (and AuthnRequests ask for); null = any but transient',
    }),
    signAuthnRequests: t.exposeBoolean('signAuthnRequests', {
      description: 'SP-initiated AuthnRequests are signed with the SP signing key',
    }),
    allowSha1: t.exposeBoolean('allowSha1', {
      description: 'RSA-SHA1 signatures and SHA-1 digests are accepted (legacy IdPs only)',
    }),
    groupsAttribute: t.exposeString('groupsAttribute', {
      description: 'The attribute carrying group values',
    }),
    adminGroups: t.exposeStringList('adminGroups', {
      description: 'Group values that give a user the admin role (checked at every sign-in)',
    }),
    sampleSize: t.exposeInt('sampleSize', {
      description:
        "How many recent sign-ins' attribute sets are kept (the latest per person) to check mapping changes against; 0 keeps none",
    }),
    sampleRetentionDays: t.exposeInt('sampleRetentionDays', {
      description: 'How long a sign-in sample (personal data, admins only) is kept',
    }),
    identityKey: t.field({
      type: IdentityKeyEnum,
      resolve: (c) => c.identityKey,
      description: 'What users are bound by: the NameID, or an attribute that never changes',
    }),
    identityKeyAttribute: t.exposeString('identityKeyAttribute', {
      nullable: true,
      description: 'The attribute of identityKey ATTRIBUTE (Entra: the objectidentifier claim)',
    }),
    linkPolicy: t.field({
      type: LinkPolicyEnum,
      resolve: (c) => c.linkPolicy,
      description: 'Whom a first sign-in may take over when no user is bound to the person yet',
    }),
    inactivityDays: t.exposeInt('inactivityDays', {
      nullable: true,
      description: 'Days without a sign-in after which the inactivity policy acts (null: never)',
    }),
    inactivityAction: t.field({
      type: InactivityActionEnum,
      resolve: (c) => c.inactivityAction,
      description: 'What the inactivity policy does',
    }),
    scimEnabled: t.exposeBoolean('scimEnabled', {
      description: "SCIM 2.0 provisioning accepted at /scim/v2 with this connection's tokens (scimTokens)",
    }),
    scimDeprovision: t.field({
      type: ScimDeprovisionEnum,
      resolve: (c) => c.scimDeprovision,
      description: 'What a SCIM deactivation (active=false) or DELETE does',
    }),
    loginUrl: t.string({
      description: 'Where to send a browser for an SP-initiated sign-in through this connection',
      resolve: (c, _args, ctx) => `${ctx.config.publicUrl}/saml/login?connection=${c.id}`,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const ScimDeprovisionEnum = builder.enumType('ScimDeprovision', {
  values: {
    BLOCK: { description: 'Block the user and end every session; keep their seats' },
    BLOCK_AND_RELEASE: { description: 'Block the user, end every session and give back their seats' },
  },
});
const IdentityKeyEnum = builder.enumType('IdentityKey', {
  values: {
    NAME_ID: { description: 'The NameID is the username and the key (a changed NameID is another user)' },
    ATTRIBUTE: {
      description:
        'An attribute that never changes (identityKeyAttribute): a new NameID or email renames the user',
    },
  },
});
const LinkPolicyEnum = builder.enumType('LinkPolicy', {
  values: {
    USERNAME: { description: 'Take over an unbound user with the same username' },
    EMAIL: { description: "Take over the one unbound user whose contact has the person's mapped email" },
    NEVER: { description: 'Never take over an existing user (LINK_REFUSED)' },
  },
});
const InactivityActionEnum = builder.enumType('InactivityAction', {
  values: {
    BLOCK: { description: 'Block the user and end their sessions' },
    RELEASE_SEATS: { description: "Give back the user's license seats only" },
    BLOCK_AND_RELEASE: { description: 'Both' },
  },
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
    nameIdFormat: t.string({ description: 'The NameID Format to require (default: any but transient)' }),
    signAuthnRequests: t.boolean({
      description: 'Sign SP-initiated AuthnRequests (default: the metadata WantAuthnRequestsSigned)',
    }),
    allowSha1: t.boolean({ description: 'Accept RSA-SHA1 signatures and SHA-1 digests (default false)' }),
    groupsAttribute: t.string({
      description: "The attribute carrying groups (default Entra's groups claim)",
    }),
    adminGroups: t.stringList({ description: 'Group values that give the admin role (default none)' }),
    sampleSize: t.int({
      description: 'Recent sign-ins kept to check mapping changes against (default 200; 0: none)',
    }),
    sampleRetentionDays: t.int({ description: 'Days a sign-in sample is kept (default 30)' }),
    identityKey: t.field({ type: IdentityKeyEnum }),
    identityKeyAttribute: t.string({
      description: 'The attribute users are bound by, for identityKey ATTRIBUTE',
    }),
    linkPolicy: t.field({ type: LinkPolicyEnum, description: 'Default USERNAME' }),
    inactivityDays: t.int({
      description: 'Days without a sign-in before the inactivity policy acts (null: never)',
    }),
    inactivityAction: t.field({ type: InactivityActionEnum, description: 'Default BLOCK_AND_RELEASE' }),
    scimEnabled: t.boolean({
      description: "Accept SCIM 2.0 provisioning with this connection's tokens (default false)",
    }),
    scimDeprovision: t.field({ type: ScimDeprovisionEnum, description: 'Default BLOCK_AND_RELEASE' }),
  }),
});

const UpdateConnectionInput = builder.inputType('UpdateConnectionInput', {
  description: 'Only the fields given change.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    metadataXml: t.string({
      description:
        "The IdP's current metadata: re-pins its signing certificates (rollover) and SSO URLs; same entity id",
    }),
    enabled: t.boolean(),
    jitEnabled: t.boolean(),
    refreshOnLogin: t.boolean(),
    idpInitiatedAllowed: t.boolean(),
    wantResponseSigned: t.boolean(),
    clockSkewSeconds: t.int(),
    nameIdFormat: t.string({ description: 'null clears the expectation (any format but transient)' }),
    signAuthnRequests: t.boolean(),
    allowSha1: t.boolean(),
    groupsAttribute: t.string(),
    adminGroups: t.stringList(),
    sampleSize: t.int(),
    sampleRetentionDays: t.int(),
    identityKey: t.field({ type: IdentityKeyEnum }),
    identityKeyAttribute: t.string({
      description: 'The attribute users are bound by, for identityKey ATTRIBUTE',
    }),
    linkPolicy: t.field({ type: LinkPolicyEnum, description: 'Default USERNAME' }),
    inactivityDays: t.int({
      description: 'Days without a sign-in before the inactivity policy acts (null: never)',
    }),
    inactivityAction: t.field({ type: InactivityActionEnum, description: 'Default BLOCK_AND_RELEASE' }),
    scimEnabled: t.boolean({
      description: "Accept SCIM 2.0 provisioning with this connection's tokens (default false)",
    }),
    scimDeprovision: t.field({ type: ScimDeprovisionEnum, description: 'Default BLOCK_AND_RELEASE' }),
  }),
});

const MetadataPreviewRef = builder.objectRef<IdpMetadataPreview>('IdpMetadataPreview').implement({
  description: 'What createConnection would pin from this metadata; nothing was written',
  fields: (t) => ({
    entityId: t.exposeString('entityId'),
    ssoRedirectUrl: t.exposeString('ssoRedirectUrl', { nullable: true }),
    ssoPostUrl: t.exposeString('ssoPostUrl', { nullable: true }),
    wantAuthnRequestsSigned: t.exposeBoolean('wantAuthnRequestsSigned'),
    certificates: t.field({ type: [CertificateRef], resolve: (m) => m.certificates }),
  }),
});

builder.queryField('readIdpMetadata', (t) =>
  t.field({
    type: MetadataPreviewRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    description:
      'Reads IdP federation metadata as createConnection would (entity id, SSO URLs, certificates with subject and expiry) without saving it',
    args: {
      metadataXml: t.arg.string({ required: true }),
      entityId: t.arg.string({ description: 'Which IdP to take when the metadata describes several' }),
    },
    resolve: (_root, args) => typedErrors(async () => previewMetadata(args)),
  }),
);

builder.mutationField('createConnection', (t) =>
  t.field({
    type: IdpConnectionRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateConnectionInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'connection.create', async (em) => {
          const connection = await createConnection(em, input);
          return {
            result: connection,
            targetType: 'IdpConnection',
            targetId: connection.id,
            after: connection,
          };
        }),
      ),
  }),
);

builder.mutationField('updateConnection', (t) =>
  t.field({
    type: IdpConnectionRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: UpdateConnectionInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'connection.update', async (em) => {
          const id = decodeId(String(input.id), 'IdpConnection', ['input', 'id']);
          const current = await em.findOne(IdpConnection, { id });
          const before = current ? snapshot(current) : null;
          const connection = await updateConnection(em, { ...input, id });
          return { result: connection, targetType: 'IdpConnection', targetId: id, before, after: connection };
        }),
      ),
  }),
);
