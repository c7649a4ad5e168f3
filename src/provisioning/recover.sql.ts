import type { EntityManager } from '@mikro-orm/postgresql';
import type { FieldChange, LicenseDecision } from '../audit/provisioning-event.entity.js';
import type { Provisioned } from './provisioning.sql.js';

/**
 * What a committed provisioning wrote, found by the session it opened (its token hash is known only
 * to the sign-in that made it): for the commit-unknown case, where the connection was lost after
 * the commit and before the answer. null when no such session exists (the attempt did not commit).
 * The session row and the CREATED/SIGNED_IN/UPDATED event of one call share its transaction's now().
 */
export async function committedBySession(em: EntityManager, tokenHash: string): Promise<Provisioned | null> {
  const rows = await em.execute<
    {
      session_id: string;
      user_id: string;
      contact_id: string | null;
      outcome: string | null;
      changes: FieldChange[] | null;
      licenses: { id: string; name: string }[] | null;
      license_decisions: LicenseDecision[] | null;
      roles: string[] | null;
    }[]
  >(
    `select s.id as session_id, s.user_id, c.id as contact_id, e.outcome, e.changes, e.license_decisions, e.roles,
            (select coalesce(jsonb_agg(jsonb_build_object('id', l.id, 'name', l.name) order by l.name), '[]'::jsonb)
               from license l where l.name in (select jsonb_array_elements_text(e.licenses_granted))) as licenses
       from user_session s
       left join contact c on c.user_id = s.user_id
       left join lateral (
         select ev.outcome, ev.changes, ev.licenses_granted, ev.license_decisions, ev.roles from provisioning_event ev
          where ev.user_id = s.user_id and ev.created_at = s.created_at and ev.outcome <> 'REJECTED'
          limit 1) e on true
      where s.token_hash = ?`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r || r.outcome === null) return null;
  return {
    userId: r.user_id,
    created: r.outcome === 'CREATED',
    contactId: r.contact_id,
    sessionId: r.session_id,
    licenses: r.licenses ?? [],
    changes: r.changes ?? [],
    licenseDecisions: r.license_decisions ?? [],
    roles: r.roles ?? [],
    outcome: r.outcome as Provisioned['outcome'],
  };
}
