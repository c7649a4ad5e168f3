import type { RoleRule } from './role.entity.js';

/** A connection's group → role rule as the sign-in evaluates it. */
export interface RoleRuleSpec {
  groupValue: string;
  roleId: string;
}

export const roleRuleSpec = (r: RoleRule): RoleRuleSpec => ({ groupValue: r.groupValue, roleId: r.role.id });

/** The built-in role that opens the admin API. */
export const ADMIN_ROLE = 'admin';

/**
 * The roles a person's groups give, by the connection's rules and its admin groups (which give the
 * built-in admin role). Re-evaluated at every sign-in: the result replaces the roles held.
 */
export function rolesFor(
  groups: readonly string[],
  rules: readonly RoleRuleSpec[],
  admin: { groups: readonly string[]; roleId: string | null },
): string[] {
  const roles = new Set<string>();
  for (const r of rules) if (groups.includes(r.groupValue)) roles.add(r.roleId);
  if (admin.roleId && admin.groups.some((g) => groups.includes(g))) roles.add(admin.roleId);
  return [...roles].sort();
}
