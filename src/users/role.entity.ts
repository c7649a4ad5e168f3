import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { IdpConnection } from '../connections/connection.entity.js';
import { createdAtProperty } from '../db/timestamps.js';
import { User } from './user.entity.js';

/** A named role; `admin` is built in (it opens the admin API), applications define the others. */
export const Role = defineEntity({
  name: 'Role',
  tableName: 'role',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string().length(64).unique(),
    description: p.string().length(500).default(''),
    builtin: p.boolean().default(false),
    createdAt: createdAtProperty(),
  },
});
export type Role = InferEntity<typeof Role>;

/** Members of a group (as the connection's groups attribute names it) hold a role. */
export const RoleRule = defineEntity({
  name: 'RoleRule',
  tableName: 'role_rule',
  uniques: [{ properties: ['connection', 'groupValue', 'role'] }],
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    connection: p.manyToOne(IdpConnection).index().deleteRule('cascade'),
    groupValue: p.string().length(256),
    role: p.manyToOne(Role).index().deleteRule('cascade'),
    createdAt: createdAtProperty(),
  },
});
export type RoleRule = InferEntity<typeof RoleRule>;

/** A role a user holds, as the last sign-in (or directory write) decided. */
export const UserRole = defineEntity({
  name: 'UserRole',
  tableName: 'user_role',
  properties: {
    user: p.manyToOne(User).primary().deleteRule('cascade'),
    role: p.manyToOne(Role).primary().index().deleteRule('cascade'),
    grantedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
  },
});
export type UserRole = InferEntity<typeof UserRole>;
