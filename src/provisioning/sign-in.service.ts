import type { MikroORM } from '@mikro-orm/postgresql';
import type { FieldChange } from '../audit/provisioning-event.entity.js';
import { newSessionToken } from '../auth/tokens.js';
import { asAppError, isRetryable } from '../db/errors.js';
import { type RawClient, rawTransaction } from '../db/raw.js';
import { AppError } from '../errors.js';
import { applyMappings, type MappedValue, type MappingRule } from '../mapping/engine.js';
import type { TransformPlugins } from '../mapping/transform.js';
import { planContactWrite } from '../mapping/write-plan.js';
import type { ValidatedAssertion } from '../saml/validator.js';

export type SignInVia = 'ACS_POST' | 'GRAPHQL';

export interface SignInConnection {
  id: string;
  jitEnabled: boolean;
  refreshOnLogin: boolean;
  groupsAttribute: string;
  adminGroups: string[];
  /** The configuration version the connection and its mappings were read at. */
  configVersion: number;
}

/** The admin role follows the IdP: held while the person is in one of the connection's admin groups. */
const holdsAdminRole = (c: SignInConnection, a: ValidatedAssertion): boolean =>
  c.adminGroups.length > 0 && (a.attributes[c.groupsAttribute] ?? []).some((g) => c.adminGroups.includes(g));

export interface SignInResult {
  userId: string;
  contactId: string | null;
  created: boolean;
  licensesGranted: { id: string; name: string }[];
  changes: FieldChange[];
  sessionId: string;
  sessionToken: string;
  sessionExpiresAt: Date;
}

export interface RejectionRecord {
  connectionId: string | null;
  issuer: string | null;
  nameId: string | null;
  assertionId: string | null;
  via: SignInVia;
  error: AppError;
}

const MAX_ATTEMPTS = 5;

// List columns travel as one JSON text, turned into an array by PostgreSQL.
const placeholder = (m: MappedValue, $: (value: unknown) => string): string =>
  m.field.multiValued
    ? `array(select jsonb_array_elements_text(${$(JSON.stringify(m.value))}::jsonb))`
    : $(m.value);

/**
 * The connection's configuration changed after the sign-in read it (the transaction found another
 * config_version, or the connection disabled or gone): nothing was written, and the caller reads
 * the configuration again and starts over.
 */
export class StaleConfiguration extends Error {
  constructor() {
    super('the IdP connection configuration changed during the sign-in');
  }
}

type Row = Record<string, unknown>;

/**
 * The one provisioning transaction: replay record, user, contact, licenses, session and audit
 * event commit together or not at all. Written as explicit SQL because each statement's concurrency
 * behaviour is the point: the unique username with ON CONFLICT makes 50 racing first sign-ins
 * create one user, and the conditional seat UPDATE never oversubscribes a license.
 */
export function createSignInService(deps: {
  orm: MikroORM;
  sessionTtlSeconds: number;
  plugins: TransformPlugins;
}) {
  async function signIn(
    connection: SignInConnection,
    rules: readonly MappingRule[],
    assertion: ValidatedAssertion,
    via: SignInVia,
  ): Promise<SignInResult> {
    // Mapping values depend on the assertion alone: computed (plugins included) before the
    // transaction opens, so locks are held only for the writes.
    const mapped = await applyMappings(rules, assertion, deps.plugins);
    for (let attempt = 1; ; attempt++) {
      try {
        return await rawTransaction(deps.orm, (db) => provision(db, connection, mapped, assertion, via));
      } catch (e) {
        if (attempt < MAX_ATTEMPTS && isRetryable(e)) continue;
        throw asAppError(e);
      }
    }
  }

  /**
   * Four round trips for any sign-in (five when a returning user's contact is refreshed): BEGIN;
   * the replay record and the user, with the connection's configuration version checked in the
   * same statement; the contact, licenses, session and audit event in one statement of
   * data-modifying CTEs; COMMIT.
   */
  async function provision(
    db: RawClient,
    connection: SignInConnection,
    mapped: readonly MappedValue[],
    a: ValidatedAssertion,
    via: SignInVia,
  ): Promise<SignInResult> {
    const user = await consumeAndUpsertUser(db, connection, a);
    if (user.status === 'BLOCKED') throw new AppError('USER_BLOCKED', `user "${a.nameId}" is blocked`);

    let current: Row | null = null;
    if (!user.created && connection.refreshOnLogin) {
      current =
        (await db.query(`select * from contact where user_id = $1 for update`, [user.id])).rows[0] ?? null;
    }
    // A new contact takes every value; a refreshed one what the write policies allow; otherwise none.
    const plan =
      user.created || connection.refreshOnLogin
        ? planContactWrite(current, mapped)
        : { writes: [], changes: [] };
    const contactWrite =
      user.created || (connection.refreshOnLogin && !current) ? 'insert' : current ? 'update' : 'none';
    const outcome = user.created ? 'CREATED' : plan.changes.length > 0 ? 'UPDATED' : 'SIGNED_IN';
    const session = newSessionToken();
    const sessionExpiresAt = new Date(Date.now() + deps.sessionTtlSeconds * 1000);

    const params: unknown[] = [];
    const $ = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const userId = $(user.id);
    const ctes: string[] = [];
    let contactId: string;
    if (contactWrite === 'insert') {
      const w = plan.writes;
      ctes.push(`contact_row as (
        insert into contact (user_id${w.map((m) => `, "${m.field.column}"`).join('')})
        values (${userId}${w.map((m) => `, ${placeholder(m, $)}`).join('')}) returning id)`);
      contactId = '(select id from contact_row)';
    } else if (contactWrite === 'update') {
      const w = plan.writes;
      const set = w.map((m) => `"${m.field.column}" = ${placeholder(m, $)}`).join(', ');
      ctes.push(
        w.length > 0
          ? `contact_row as (update contact set ${set}, updated_at = now() where id = ${$(current?.id)} returning id)`
          : `contact_row as (select ${$(current?.id)}::uuid as id)`,
      );
      contactId = '(select id from contact_row)';
    } else {
      contactId = `(select id from contact where user_id = ${userId})`;
    }
    if (user.created) {
      // Locks the available licenses in id order (no deadlocks between sign-ins), re-checks the seat
      // condition on the locked row version, and takes a seat in the same statement.
      ctes.push(
        `available as (select id from license where active and (seats is null or used < seats) order by id for update)`,
        `granted as (update license l set used = l.used + 1 from available
           where l.id = available.id and (l.seats is null or l.used < l.seats) returning l.id, l.name)`,
        `grants as (insert into license_grant (license_id, user_id) select id, ${userId} from granted)`,
      );
    } else {
      ctes.push(`granted as (select null::uuid as id, null::text as name where false)`);
    }
    ctes.push(
      `session as (insert into user_session (token_hash, user_id, expires_at)
         values (${$(session.hash)}, ${userId}, ${$(sessionExpiresAt)}) returning id)`,
      `event as (insert into provisioning_event
         (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, via)
         values (${$(connection.id)}, ${userId}, ${$(a.nameId)}, ${$(a.issuer)}, ${$(a.assertionId)},
           ${$(outcome)}, ${$(JSON.stringify(plan.changes))}::jsonb,
           (select coalesce(jsonb_agg(name order by name), '[]'::jsonb) from granted), ${$(via)}))`,
    );
    const { rows } = await db.query<{ contact_id: string | null; session_id: string; licenses: Row[] }>(
      `with ${ctes.join(',\n')}
       select ${contactId} as contact_id, (select id from session) as session_id,
         (select coalesce(jsonb_agg(jsonb_build_object('id', id, 'name', name)), '[]'::jsonb) from granted) as licenses`,
      params,
    );
    const row = rows[0];
    if (!row) throw new Error('the provisioning statement returned no row');
    const licensesGranted = row.licenses
      .map((g) => ({ id: String(g.id), name: String(g.name) }))
      .sort((x, y) => x.name.localeCompare(y.name));
    return {
      userId: user.id,
      contactId: row.contact_id === null ? null : String(row.contact_id),
      created: user.created,
      licensesGranted,
      changes: plan.changes,
      sessionId: String(row.session_id),
      sessionToken: session.token,
      sessionExpiresAt,
    };
  }

  /**
   * One statement: the connection's configuration must still be the one the caller read (else
   * nothing is written and StaleConfiguration is thrown), the (issuer, assertion id) is recorded
   * (the replay guard across processes), and the user is matched or, where JIT is on, created.
   * Existing users are matched first so that JIT-off connections never insert, and a user
   * provisioned through another connection is refused instead of being taken over. The unique
   * username with ON CONFLICT makes racing first sign-ins of one person create one user.
   */
  async function consumeAndUpsertUser(db: RawClient, connection: SignInConnection, a: ValidatedAssertion) {
    const { rows } = await db.query<{
      config_version: number | null;
      consumed: boolean;
      id: string | null;
      status: string | null;
      connection_id: string | null;
      created: boolean | null;
    }>(
      `with conn as (
         select config_version from idp_connection where id = $1 and enabled
       ), consumed as (
         insert into consumed_assertion (issuer, assertion_id, expires_at)
         select $2, $3, $4 where exists (select from conn where config_version = $5)
         on conflict do nothing returning 1
       ), touched as (
         update app_user set last_login_at = now(), is_admin = $6
         where username = $7 and exists (select from consumed)
         returning id, status, connection_id
       ), inserted as (
         insert into app_user (username, connection_id, last_login_at, is_admin)
         select $7, $1, now(), $6 where $8 and exists (select from consumed) and not exists (select from touched)
         on conflict (username) do update set last_login_at = excluded.last_login_at, is_admin = excluded.is_admin
         returning id, status, connection_id, (xmax = 0) as created
       ), matched as (
         select id, status, connection_id, false as created from touched
         union all select id, status, connection_id, created from inserted
       )
       select (select config_version from conn) as config_version, exists (select from consumed) as consumed,
         m.id, m.status, m.connection_id, m.created
       from (select 1) one left join matched m on true`,
      [
        connection.id,
        a.issuer,
        a.assertionId,
        a.notOnOrAfter,
        connection.configVersion,
        holdsAdminRole(connection, a),
        a.nameId,
        connection.jitEnabled,
      ],
    );
    const row = rows[0];
    if (!row || row.config_version !== connection.configVersion) throw new StaleConfiguration();
    if (!row.consumed) {
      throw new AppError('SAML_REPLAY', 'this assertion has already been used', {
        assertionId: a.assertionId,
      });
    }
    if (row.id === null) {
      throw new AppError('JIT_DISABLED', `user "${a.nameId}" does not exist and JIT provisioning is off`);
    }
    if (row.connection_id !== null && row.connection_id !== connection.id) {
      throw new AppError('FORBIDDEN', `user "${a.nameId}" belongs to another IdP connection`);
    }
    return { id: String(row.id), status: String(row.status), created: row.created === true };
  }

  /** The audit row of a refused sign-in, in its own transaction (the sign-in's was rolled back). */
  async function recordRejection(r: RejectionRecord): Promise<void> {
    await deps.orm.em.fork().execute(
      `insert into provisioning_event
         (connection_id, name_id, issuer, assertion_id, outcome, error_code, error_message, via)
       values (?, ?, ?, ?, 'REJECTED', ?, ?, ?)`,
      [r.connectionId, r.nameId, r.issuer, r.assertionId, r.error.code, r.error.message, r.via],
    );
  }

  return { signIn, recordRejection };
}
export type SignInService = ReturnType<typeof createSignInService>;
