import { adminChange, snapshot } from '../audit/admin-audit.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { IdpConnectionRef } from '../connections/connection.graphql.js';
import { checkGroupsAttribute } from '../connections/connections.sql.js';
import { isUniqueViolation } from '../db/errors.js';
import { AppError } from '../errors.js';
import { builder } from '../graphql/builder.js';
import { InputError, typedErrors } from '../graphql/errors.graphql.js';
import { decodeId } from '../graphql/ids.js';
import { Role, RoleRule } from './role.entity.js';
import { ADMIN_ROLE } from './roles.js';
import { rolesByUserIds } from './roles.sql.js';
import { UserRef } from './user.graphql.js';

export const RoleRef = builder.node(builder.objectRef<Role>('Role'), {
  description:
    'A named role. `admin` is built in (it opens the admin API); applications define the others and read them from User.roles. Held by group rules, re-evaluated at every sign-in.',
  authScopes: { user: true },
  id: { resolve: (r) => r.id },
  loadOne: (id, ctx) => ctx.em.findOne(Role, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    builtin: t.exposeBoolean('builtin'),
  }),
});

const RoleRuleRef = builder.node(builder.objectRef<RoleRule>('RoleRule'), {
  description: "Members of a group (in the connection's groups attribute) hold a role.",
  authScopes: { admin: true },
  id: { resolve: (r) => r.id },
  loadOne: (id, ctx) => ctx.em.findOne(RoleRule, { id }),
  fields: (t) => ({
    groupValue: t.exposeString('groupValue'),
    role: t.field({ type: RoleRef, resolve: (r, _a, ctx) => ctx.em.findOneOrFail(Role, { id: r.role.id }) }),
  }),
});

builder.objectField(UserRef, 'roles', (t) =>
  t.loadableList({
    type: RoleRef,
    description: 'The roles the user holds (as their last sign-in decided), by name',
    load: (ids: string[], ctx) => rolesByUserIds(ctx.em, ids),
    resolve: (u) => u.id,
  }),
);

builder.objectField(IdpConnectionRef, 'roleRules', (t) =>
  t.field({
    type: [RoleRuleRef],
    authScopes: { admin: true },
    description: 'Group → role rules (the admin groups give the admin role besides these)',
    resolve: (c, _a, ctx) => ctx.em.find(RoleRule, { connection: c.id }, { orderBy: { groupValue: 'asc' } }),
  }),
);

builder.queryField('roles', (t) =>
  t.field({
    type: [RoleRef],
    authScopes: { admin: true },
    nullable: true,
    resolve: (_r, _a, ctx) => ctx.em.find(Role, {}, { orderBy: { name: 'asc' } }),
  }),
);

const ROLE_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;

function checkRoleName(name: string): string {
  const n = name.trim();
  if (!ROLE_NAME.test(n)) {
    throw new AppError(
      'VALIDATION_FAILED',
      'a role name is 1–64 characters: lower-case letters, digits and _ . : -, starting with a letter',
      { path: ['input', 'name'] },
    );
  }
  return n;
}

const CreateRoleInput = builder.inputType('CreateRoleInput', {
  fields: (t) => ({ name: t.string({ required: true }), description: t.string() }),
});

builder.mutationField('createRole', (t) =>
  t.field({
    type: RoleRef,
    nullable: true,
    authScopes: { admin: true },
    errors: { types: [InputError] },
    args: { input: t.arg({ type: CreateRoleInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'role.create', async (em) => {
          const role = em.create(Role, {
            name: checkRoleName(input.name),
            description: (input.description ?? '').trim().slice(0, 500),
            builtin: false,
          });
          try {
            await em.flush();
          } catch (e) {
            if (!isUniqueViolation(e)) throw e;
            throw new AppError('CONFLICT', `a role named "${role.name}" exists`, { path: ['input', 'name'] });
          }
          return { result: role, targetType: 'Role', targetId: role.id, after: role };
        }),
      ),
  }),
);

const UpdateRoleInput = builder.inputType('UpdateRoleInput', {
  fields: (t) => ({ id: t.id({ required: true }), description: t.string({ required: true }) }),
});

builder.mutationField('updateRole', (t) =>
  t.field({
    type: RoleRef,
    nullable: true,
    authScopes: { admin: true },
    description: "Changes a role's description (names are what applications match on: they do not change).",
    errors: { types: [InputError] },
    args: { input: t.arg({ type: UpdateRoleInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'role.update', async (em) => {
          const role = await findRole(em, String(input.id), ['input', 'id']);
          const before = snapshot(role);
          role.description = input.description.trim().slice(0, 500);
          await em.flush();
          return { result: role, targetType: 'Role', targetId: role.id, before, after: role };
        }),
      ),
  }),
);

builder.mutationField('removeRole', (t) =>
  t.field({
    type: 'ID',
    nullable: true,
    authScopes: { admin: true },
    description:
      'Removes a role, its rules and every user’s hold of it (returns its id). The built-in admin role stays.',
    errors: { types: [InputError], directResult: false },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'role.remove', async (em) => {
          const role = await findRole(em, String(args.id), ['id']);
          if (role.builtin) {
            throw new AppError('ROLE_BUILTIN', `role "${role.name}" is built in and cannot be removed`, {
              path: ['id'],
            });
          }
          const before = snapshot(role);
          await em.nativeDelete(Role, { id: role.id });
          return { result: String(args.id), targetType: 'Role', targetId: role.id, before };
        }),
      ),
  }),
);

async function findRole(
  em: Parameters<typeof checkGroupsAttribute>[0],
  globalId: string,
  path: (string | number)[],
) {
  const id = decodeId(globalId, 'Role', path);
  const role = await em.findOne(Role, { id });
  if (!role) throw new AppError('NOT_FOUND', 'no role has that id', { path });
  return role;
}

const RoleRuleInput = builder.inputType('RoleRuleInput', {
  fields: (t) => ({ groupValue: t.string({ required: true }), roleId: t.id({ required: true }) }),
});

builder.mutationField('setRoleRules', (t) =>
  t.field({
    type: [RoleRuleRef],
    nullable: true,
    authScopes: { admin: true },
    description:
      "Replaces a connection's group → role rules. Applied at each sign-in: the roles the rules give replace those held (kept when the groups are unknown, Entra's overage).",
    errors: { types: [InputError], directResult: false },
    args: {
      connectionId: t.arg.id({ required: true }),
      rules: t.arg({ type: [RoleRuleInput], required: true }),
      force: t.arg.boolean({
        description: 'Write the rules although recent sign-ins never carried the groups attribute',
      }),
    },
    resolve: (_r, args, ctx) =>
      typedErrors(() =>
        adminChange(ctx, 'connection.roleRules', async (em) => {
          const connectionId = decodeId(String(args.connectionId), 'IdpConnection', ['connectionId']);
          const connection = await em.findOne(IdpConnection, { id: connectionId });
          if (!connection)
            throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['connectionId'] });
          if (args.rules.length > 500)
            throw new AppError('RULE_INVALID', 'at most 500 role rules per connection', { path: ['rules'] });
          const rules: { groupValue: string; role: Role }[] = [];
          const seen = new Set<string>();
          for (const [i, r] of args.rules.entries()) {
            const groupValue = r.groupValue.trim();
            if (!groupValue || groupValue.length > 256) {
              throw new AppError('RULE_INVALID', 'a group value is 1–256 characters', {
                path: ['rules', i, 'groupValue'],
              });
            }
            const role = await findRole(em, String(r.roleId), ['rules', i, 'roleId']).catch(() => {
              throw new AppError('RULE_INVALID', 'no role has that id', { path: ['rules', i, 'roleId'] });
            });
            if (role.name === ADMIN_ROLE) {
              throw new AppError(
                'RULE_INVALID',
                "the admin role follows the connection's adminGroups: set those instead",
                { path: ['rules', i, 'roleId'] },
              );
            }
            const key = `${groupValue}\u0000${role.id}`;
            if (seen.has(key))
              throw new AppError('RULE_INVALID', 'the same rule twice', { path: ['rules', i] });
            seen.add(key);
            rules.push({ groupValue, role });
          }
          if (!args.force && rules.length > 0) {
            const refusal = await checkGroupsAttribute(em, connection, ['rules']);
            if (refusal) throw new AppError(refusal.code, refusal.message, { path: refusal.path });
          }
          const before = (await em.find(RoleRule, { connection: connectionId })).map(snapshot);
          await em.nativeDelete(RoleRule, { connection: connectionId });
          const created = rules.map((r) => em.create(RoleRule, { connection, ...r }));
          await em.flush();
          return {
            result: created,
            targetType: 'IdpConnection',
            targetId: connectionId,
            before,
            after: created.map(snapshot),
          };
        }),
      ),
  }),
);
