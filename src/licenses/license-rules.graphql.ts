import { adminChange, snapshot } from '../audit/admin-audit.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { IdpConnectionRef } from '../connections/connection.graphql.js';
import { checkGroupsAttribute } from '../connections/connections.sql.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { License } from './license.entity.js';
import { LicenseRef } from './license.graphql.js';
import { LicenseRule, LicenseRuleKind } from './license-rule.entity.js';

const KindEnum = builder.enumType('LicenseRuleKind', {
  values: {
    EVERYONE: { description: 'Everyone who signs in through the connection' },
    GROUP: { description: "Members of groupValue (in the connection's groups attribute)" },
    EXPRESSION: {
      description: 'When the JSONata expression over $attributes and $nameId gives true',
    },
  },
});
const ExhaustedEnum = builder.enumType('LicenseRuleOnExhausted', {
  values: {
    REFUSE: { description: 'Refuse the sign-in (LICENSE_SEATS_EXHAUSTED)' },
    SKIP: { description: 'Let the person in without the license (the decision says NO_SEAT)' },
  },
});

export const LicenseRuleRef = builder.node(builder.objectRef<LicenseRule>('LicenseRule'), {
  description:
    "Grants a license at sign-in: to everyone, to a group's members, or when an expression holds. A connection's rules are ordered; the first rule naming a license decides for it.",
  authScopes: { admin: true },
  id: { resolve: (r) => r.id },
  loadOne: (id, ctx) => ctx.em.findOne(LicenseRule, { id }),
  fields: (t) => ({
    position: t.exposeInt('position'),
    license: t.field({
      type: LicenseRef,
      resolve: (r, _args, ctx) => ctx.em.findOneOrFail(License, { id: r.license.id }),
    }),
    kind: t.field({ type: KindEnum, resolve: (r) => r.kind }),
    groupValue: t.exposeString('groupValue', { nullable: true }),
    expression: t.exposeString('expression', { nullable: true }),
    revokeUnmatched: t.exposeBoolean('revokeUnmatched', {
      description: 'Take the license back at a sign-in where the rule no longer holds',
    }),
    onExhausted: t.field({ type: ExhaustedEnum, resolve: (r) => r.onExhausted }),
  }),
});

builder.objectField(IdpConnectionRef, 'licenseRules', (t) =>
  t.field({
    type: [LicenseRuleRef],
    authScopes: { admin: true },
    description: 'The license rules, in order (none: every available license to a new user)',
    resolve: (c, _args, ctx) =>
      ctx.em.find(LicenseRule, { connection: c.id }, { orderBy: { position: 'asc' } }),
  }),
);

const LicenseRuleInput = builder.inputType('LicenseRuleInput', {
  fields: (t) => ({
    licenseId: t.id({ required: true }),
    kind: t.field({ type: KindEnum, required: true }),
    groupValue: t.string({ description: 'The group, for kind GROUP' }),
    expression: t.string({ description: 'JSONata giving true or false, for kind EXPRESSION' }),
    revokeUnmatched: t.boolean({ description: 'Default false' }),
    onExhausted: t.field({ type: ExhaustedEnum, description: 'Default SKIP' }),
  }),
});

const MAX_RULES = 100;

builder.mutationField('setLicenseRules', (t) =>
  t.field({
    type: [LicenseRuleRef],
    nullable: true,
    authScopes: { admin: true },
    description:
      "Replaces a connection's license rules with this ordered list ([] restores the default: every available license to a new user). Each rule is checked when written.",
    errors: { types: [InputError], directResult: false },
    args: {
      connectionId: t.arg.id({ required: true }),
      rules: t.arg({ type: [LicenseRuleInput], required: true }),
      force: t.arg.boolean({
        description: 'Write group rules although recent sign-ins never carried the groups attribute',
      }),
    },
    resolve: (_root, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'connection.licenseRules', async (em) => {
          const connectionId = decodeId(String(args.connectionId), 'IdpConnection', ['connectionId']);
          const connection = await em.findOne(IdpConnection, { id: connectionId });
          if (!connection)
            throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['connectionId'] });
          if (args.rules.length > MAX_RULES) {
            throw new AppError('RULE_INVALID', `at most ${MAX_RULES} license rules per connection`, {
              path: ['rules'],
            });
          }
          const checked = [];
          for (const [i, r] of args.rules.entries()) {
            const at = (...p: string[]) => ({ path: ['rules', i, ...p] });
            const licenseId = decodeId(String(r.licenseId), 'License', ['rules', i, 'licenseId']);
            const license = await em.findOne(License, { id: licenseId });
            if (!license) throw new AppError('RULE_INVALID', 'no license has that id', at('licenseId'));
            if (!LicenseRuleKind.includes(r.kind))
              throw new AppError('RULE_INVALID', 'unknown kind', at('kind'));
            const groupValue = r.groupValue?.trim() || null;
            const expression = r.expression?.trim() || null;
            if (r.kind === 'GROUP' && !groupValue) {
              throw new AppError('RULE_INVALID', 'a GROUP rule needs a groupValue', at('groupValue'));
            }
            if (r.kind !== 'GROUP' && groupValue) {
              throw new AppError('RULE_INVALID', `a ${r.kind} rule takes no groupValue`, at('groupValue'));
            }
            if (r.kind === 'EXPRESSION') {
              if (!expression)
                throw new AppError(
                  'RULE_INVALID',
                  'an EXPRESSION rule needs an expression',
                  at('expression'),
                );
              try {
                ctx.services.plugins.validateParams('expression', { expression });
              } catch (e) {
                const why = e instanceof Error ? e.message : 'invalid';
                throw new AppError('RULE_INVALID', `the expression is refused: ${why}`, at('expression'));
              }
            } else if (expression) {
              throw new AppError('RULE_INVALID', `a ${r.kind} rule takes no expression`, at('expression'));
            }
            checked.push({
              license,
              kind: r.kind,
              groupValue,
              expression,
              revokeUnmatched: r.revokeUnmatched ?? false,
              onExhausted: r.onExhausted ?? 'SKIP',
            });
          }
          if (!args.force && checked.some((r) => r.kind === 'GROUP')) {
            const refusal = await checkGroupsAttribute(em, connection, ['rules']);
            if (refusal) throw new AppError(refusal.code, refusal.message, { path: refusal.path });
          }
          const before = (
            await em.find(LicenseRule, { connection: connectionId }, { orderBy: { position: 'asc' } })
          ).map(snapshot);
          await em.nativeDelete(LicenseRule, { connection: connectionId });
          const rules = checked.map((r, position) => em.create(LicenseRule, { connection, position, ...r }));
          await em.flush();
          return {
            result: rules,
            targetType: 'IdpConnection',
            targetId: connectionId,
            before,
            after: rules.map(snapshot),
          };
        }),
      ),
  }),
);
