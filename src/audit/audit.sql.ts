import type { KeysetQuery } from '../graphql/keyset.sql.js';

/** The keyset queries of the two audit lists, newest first. */

/** Present filters only, each as one condition with its value. */
function conditions(pairs: readonly (readonly [unknown, string])[]): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [value, sql] of pairs) {
    if (value === null || value === undefined || value === '') continue;
    where.push(sql);
    params.push(value);
  }
  return { where, params };
}

export function provisioningEventList(f: {
  outcome?: string | null;
  connectionId?: string | null;
  userId?: string | null;
  nameId?: string | null;
  after?: Date | null;
  before?: Date | null;
}): KeysetQuery {
  return {
    select: 'e.*',
    from: 'from provisioning_event e',
    ...conditions([
      [f.outcome, 'e.outcome = ?'],
      [f.connectionId, 'e.connection_id = ?'],
      [f.userId, 'e.user_id = ?'],
      [f.nameId, 'e.name_id = ?'],
      [f.after, 'e.created_at >= ?'],
      [f.before, 'e.created_at < ?'],
    ]),
    sortExpr: 'e.created_at',
    idExpr: 'e.id',
    descending: true,
  };
}

export function adminAuditEventList(f: { action?: string | null; targetId?: string | null }): KeysetQuery {
  return {
    select: 'a.*',
    from: 'from admin_audit_event a',
    ...conditions([
      [f.action, 'a.action = ?'],
      [f.targetId, 'a.target_id = ?'],
    ]),
    sortExpr: 'a.created_at',
    idExpr: 'a.id',
    descending: true,
  };
}
