import type { EntityManager } from '@mikro-orm/postgresql';
import type { FieldChange, LicenseDecision, MappingFallback } from '../audit/provisioning-event.entity.js';
import type { IdpConnection } from '../connections/connection.entity.js';
import type { LicensePlan } from '../licenses/license-rules.js';

/**
 * The provisioning transaction's SQL: the one call of jitprov_provision (provisioning.sql) that
 * applies a plan, and the reads a contact refresh is planned on. Hand-written because it runs on
 * every sign-in; everything else of the provisioning goes through the ORM.
 */

export type ContactRow = Record<string, unknown>;

/** Whom a provisioning is about, and how the transaction finds (or links) their user. */
export interface Who {
  connectionId: string;
  username: string;
  /** The stable key of a connection that binds people by one. */
  key?: string;
  /** A directory write names its user (a SCIM resource id). */
  userId?: string;
  linkPolicy: IdpConnection['linkPolicy'];
  /** The mapped email address (what the EMAIL link policy matches). */
  email?: string;
}

/** What jitprov_provision takes (see provisioning.sql). Absent parts are left out, never null. */
export interface ProvisionInput extends Who {
  configVersion: number;
  /** Left out with `roles` when the groups are unknown: the user keeps what they hold. */
  isAdmin?: boolean;
  /** Role ids, replacing those held. */
  roles?: string[];
  groupOverage?: boolean;
  /** Left out: every available license to a new user (a connection without license rules). */
  licenses?: LicensePlan;
  /** A directory write (SCIM): refuse USER_EXISTS instead of updating an existing user. */
  mustCreate?: boolean;
  /** A directory write sets the status instead of refusing a blocked user; BLOCKED ends every session. */
  status?: 'ACTIVE' | 'BLOCKED';
  /** With status BLOCKED: give back every seat the user holds. */
  releaseSeats?: boolean;
  /** A directory's record of the person (the SCIM resource); deleted: no longer served. */
  record?: { resource: Record<string, unknown>; deleted: boolean };
  via: string;
  credential?: { issuer: string; id: string; expiresAt: string };
  session?: { hash: string; expiresAt: string };
  create: { values: Record<string, unknown>; changes: FieldChange[] };
  refresh?: {
    contactExists: boolean;
    expect: Record<string, unknown>;
    values: Record<string, unknown>;
    changes: FieldChange[];
  };
  /** Mappings that fell back by their failure policy, for the audit row. */
  fallbacks: MappingFallback[];
  /** The attributes to keep as this person's most recent sign-in sample. */
  sample?: Record<string, string[]>;
}

/** The refusals jitprov_provision returns as data (every write of the call undone). */
export type Refusal =
  | 'STALE_CONFIGURATION'
  | 'REPLAY'
  | 'JIT_DISABLED'
  | 'OTHER_CONNECTION'
  | 'LINK_REFUSED'
  | 'USERNAME_TAKEN'
  | 'USER_BLOCKED'
  | 'LICENSE_SEATS_EXHAUSTED'
  | 'USER_EXISTS'
  | 'PLAN_OUTDATED'
  | 'CONTENTION';

export interface Provisioned {
  userId: string;
  created: boolean;
  contactId: string | null;
  sessionId: string | null;
  licenses: { id: string; name: string }[];
  changes: FieldChange[];
  licenseDecisions: LicenseDecision[];
  roles: string[];
  outcome: 'CREATED' | 'SIGNED_IN' | 'UPDATED';
}

/** A refusal, with the license a seat-refusing rule found full. */
export interface Refused {
  refusal: Refusal;
  license?: string | null;
}

export async function provision(em: EntityManager, input: ProvisionInput): Promise<Provisioned | Refused> {
  const rows = await em.execute<{ r: Provisioned | Refused }[]>('select jitprov_provision(?::jsonb) as r', [
    JSON.stringify(input),
  ]);
  const r = rows[0]?.r;
  if (!r) throw new Error('jitprov_provision returned nothing');
  return r;
}

/**
 * The contact of the user a provisioning will write, as it is now: found as jitprov_provision finds
 * them (by the stable key, else, for a first binding, by email under the EMAIL link policy or by
 * username). `userExists` false when there is no such user, `contact` null when the user has none.
 * With `lock`, the user row is locked first, in a statement of its own: a statement that waited for
 * the lock would still see the contact as it was when it began.
 */
export async function readContact(
  em: EntityManager,
  who: Who,
  lock = false,
): Promise<{ userExists: boolean; contact: ContactRow | null }> {
  const userId = await findUser(em, who);
  if (!userId) return { userExists: false, contact: null };
  if (lock) await em.execute('select 1 from app_user where id = ? for update', [userId]);
  const rows = await em.execute<ContactRow[]>('select c.* from contact c where c.user_id = ?', [userId]);
  return { userExists: true, contact: rows[0] ?? null };
}

async function findUser(em: EntityManager, who: Who): Promise<string | null> {
  const first = async (sql: string, params: unknown[]) =>
    (await em.execute<{ id: string }[]>(sql, params))[0]?.id ?? null;
  if (who.userId !== undefined) return first('select id from app_user where id = ?', [who.userId]);
  if (who.key === undefined) return first('select id from app_user where username = ?', [who.username]);
  const bound = await first('select id from app_user where connection_id = ? and external_key = ?', [
    who.connectionId,
    who.key,
  ]);
  if (bound) return bound;
  if (who.linkPolicy === 'EMAIL' && who.email) {
    const byEmail = await first(
      `select u.id from app_user u join contact c on c.user_id = u.id
        where lower(c.email) = lower(?) and u.external_key is null
          and (u.connection_id is null or u.connection_id = ?)`,
      [who.email, who.connectionId],
    );
    if (byEmail) return byEmail;
  }
  return first('select id from app_user where username = ?', [who.username]);
}
