import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Whether a connection's recent sign-ins (its kept samples) carried an attribute: what a group
 * rule is checked against when written. `sampled` 0: nothing is known yet (no samples kept).
 */
export async function attributeSeen(
  em: EntityManager,
  connectionId: string,
  attribute: string,
): Promise<{ sampled: number; carrying: number }> {
  const rows = await em.execute<{ sampled: string | number; carrying: string | number }[]>(
    `select count(*) as sampled, count(*) filter (where jsonb_exists(attributes, ?)) as carrying
       from sign_in_sample where connection_id = ?`,
    [attribute, connectionId],
  );
  return { sampled: Number(rows[0]?.sampled ?? 0), carrying: Number(rows[0]?.carrying ?? 0) };
}

/**
 * Refuses group rules for a connection whose recent sign-ins never carried its groups attribute
 * (the rule could never match: a misnamed claim, or groups not released by the IdP), unless forced.
 */
export async function checkGroupsAttribute(
  em: EntityManager,
  connection: { id: string; name: string; groupsAttribute: string },
  path: (string | number)[],
): Promise<{ code: 'GROUPS_ATTRIBUTE_NOT_SEEN'; message: string; path: (string | number)[] } | null> {
  const { sampled, carrying } = await attributeSeen(em, connection.id, connection.groupsAttribute);
  if (sampled === 0 || carrying > 0) return null;
  return {
    code: 'GROUPS_ATTRIBUTE_NOT_SEEN',
    message: `none of the last ${sampled} sign-ins through "${connection.name}" carried the groups attribute "${connection.groupsAttribute}": a group rule could never match (fix groupsAttribute, or pass force: true)`,
    path,
  };
}
