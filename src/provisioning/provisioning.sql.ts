import type { EntityManager } from '@mikro-orm/postgresql';
import type { FieldChange, MappingFallback } from '../audit/provisioning-event.entity.js';

/**
 * The provisioning transaction's SQL: the one call of jitprov_provision (provisioning.sql) that
 * applies a plan, and the reads a contact refresh is planned on. Hand-written because it runs on
 * every sign-in; everything else of the provisioning goes through the ORM.
 */

export type ContactRow = Record<string, unknown>;

/** What jitprov_provision takes (see provisioning.sql). Absent parts are left out, never null. */
export interface ProvisionInput {
  connectionId: string;
  configVersion: number;
  username: string;
  isAdmin: boolean;
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
  | 'USER_BLOCKED'
  | 'PLAN_OUTDATED';

export interface Provisioned {
  userId: string;
  created: boolean;
  contactId: string | null;
  sessionId: string | null;
  licenses: { id: string; name: string }[];
  changes: FieldChange[];
  outcome: 'CREATED' | 'SIGNED_IN' | 'UPDATED';
}

export async function provision(
  em: EntityManager,
  input: ProvisionInput,
): Promise<Provisioned | { refusal: Refusal }> {
  const rows = await em.execute<{ r: Provisioned | { refusal: Refusal } }[]>(
    'select jitprov_provision(?::jsonb) as r',
    [JSON.stringify(input)],
  );
  const r = rows[0]?.r;
  if (!r) throw new Error('jitprov_provision returned nothing');
  return r;
}

/**
 * A user's contact as it is now: `userExists` false when there is no such user, `contact` null
 * when the user has none. With `lock`, the user row is locked first, in a statement of its own: a
 * statement that waited for the lock would still see the contact as it was when it began.
 */
export async function readContact(
  em: EntityManager,
  username: string,
  lock = false,
): Promise<{ userExists: boolean; contact: ContactRow | null }> {
  if (lock) await em.execute('select 1 from app_user where username = ? for update', [username]);
  const rows = await em.execute<ContactRow[]>(
    'select c.* from app_user u left join contact c on c.user_id = u.id where u.username = ?',
    [username],
  );
  const row = rows[0];
  if (!row) return { userExists: false, contact: null };
  return { userExists: true, contact: row.id === null ? null : row };
}
