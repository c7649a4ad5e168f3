import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { FieldChange } from '../audit/provisioning-event.entity.js';
import { newSessionToken } from '../auth/tokens.js';
import { asAppError, isRetryable } from '../db/errors.js';
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

// The driver expands array parameters into value lists, so list columns travel as one JSON text.
const placeholder = (m: MappedValue): string =>
  m.field.multiValued ? `array(select jsonb_array_elements_text(?::jsonb))` : '?';
const param = (m: MappedValue): unknown => (m.field.multiValued ? JSON.stringify(m.value) : m.value);

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
        return await deps.orm.em
          .fork()
          .transactional((em) => provision(em, connection, mapped, assertion, via));
      } catch (e) {
        if (attempt < MAX_ATTEMPTS && isRetryable(e)) continue;
        throw asAppError(e);
      }
    }
  }

  async function provision(
    em: EntityManager,
    connection: SignInConnection,
    mapped: readonly MappedValue[],
    a: ValidatedAssertion,
    via: SignInVia,
  ): Promise<SignInResult> {
    const consumed = await em.execute<Row[]>(
      `insert into consumed_assertion (issuer, assertion_id, expires_at) values (?, ?, ?)
       on conflict do nothing returning assertion_id`,
      [a.issuer, a.assertionId, a.notOnOrAfter],
    );
    if (consumed.length === 0) {
      throw new AppError('SAML_REPLAY', 'this assertion has already been used', {
        assertionId: a.assertionId,
      });
    }

    const user = await upsertUser(em, connection, a.nameId, holdsAdminRole(connection, a));
    if (user.status === 'BLOCKED') throw new AppError('USER_BLOCKED', `user "${a.nameId}" is blocked`);

    let contactId: string | null = null;
    let changes: FieldChange[] = [];
    if (user.created) {
      ({ contactId, changes } = await writeContact(em, user.id, null, mapped));
    } else if (connection.refreshOnLogin) {
      const current = (
        await em.execute<Row[]>(`select * from contact where user_id = ? for update`, [user.id])
      )[0];
      ({ contactId, changes } = await writeContact(em, user.id, current ?? null, mapped));
    } else {
      const [row] = await em.execute<Row[]>('select id from contact where user_id = ?', [user.id]);
      contactId = row ? String(row.id) : null;
    }

    const licensesGranted = user.created ? await grantAvailableLicenses(em, user.id) : [];
    const session = newSessionToken();
    const sessionExpiresAt = new Date(Date.now() + deps.sessionTtlSeconds * 1000);
    const [sessionRow] = await em.execute<Row[]>(
      `insert into user_session (token_hash, user_id, expires_at) values (?, ?, ?) returning id`,
      [session.hash, user.id, sessionExpiresAt],
    );
    const outcome = user.created ? 'CREATED' : changes.length > 0 ? 'UPDATED' : 'SIGNED_IN';
    await em.execute(
      `insert into provisioning_event
         (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, via)
       values (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)`,
      [
        connection.id,
        user.id,
        a.nameId,
        a.issuer,
        a.assertionId,
        outcome,
        JSON.stringify(changes),
        JSON.stringify(licensesGranted.map((l) => l.name)),
        via,
      ],
    );
    return {
      userId: user.id,
      contactId,
      created: user.created,
      licensesGranted,
      changes,
      sessionId: String(sessionRow?.id),
      sessionToken: session.token,
      sessionExpiresAt,
    };
  }

  async function upsertUser(
    em: EntityManager,
    connection: SignInConnection,
    username: string,
    isAdmin: boolean,
  ) {
    // Existing users are matched first so that JIT-off connections never insert, and so that a user
    // provisioned through another connection is refused instead of being taken over.
    const touch = await em.execute<Row[]>(
      `update app_user set last_login_at = now(), is_admin = ? where username = ? returning id, status, connection_id`,
      [isAdmin, username],
    );
    let row = touch[0];
    let created = false;
    if (!row) {
      if (!connection.jitEnabled) {
        throw new AppError('JIT_DISABLED', `user "${username}" does not exist and JIT provisioning is off`);
      }
      const inserted = await em.execute<Row[]>(
        `insert into app_user (username, connection_id, last_login_at, is_admin) values (?, ?, now(), ?)
         on conflict (username) do update set last_login_at = excluded.last_login_at, is_admin = excluded.is_admin
         returning id, status, connection_id, (xmax = 0) as created`,
        [username, connection.id, isAdmin],
      );
      row = inserted[0] as Row;
      created = row.created === true;
    }
    if (row.connection_id !== null && row.connection_id !== connection.id) {
      throw new AppError('FORBIDDEN', `user "${username}" belongs to another IdP connection`);
    }
    return { id: String(row.id), status: String(row.status), created };
  }

  async function writeContact(
    em: EntityManager,
    userId: string,
    current: Row | null,
    mapped: readonly MappedValue[],
  ) {
    const { writes, changes } = planContactWrite(current, mapped);
    if (!current) {
      const rows = await em.execute<Row[]>(
        `insert into contact (user_id${writes.map((m) => `, "${m.field.column}"`).join('')})
         values (?${writes.map((m) => `, ${placeholder(m)}`).join('')}) returning id`,
        [userId, ...writes.map(param)],
      );
      return { contactId: String(rows[0]?.id), changes };
    }
    if (writes.length > 0) {
      await em.execute(
        `update contact set ${writes.map((m) => `"${m.field.column}" = ${placeholder(m)}`).join(', ')},
         updated_at = now() where id = ?`,
        [...writes.map(param), current.id],
      );
    }
    return { contactId: String(current.id), changes };
  }

  async function grantAvailableLicenses(em: EntityManager, userId: string) {
    // Locks the available licenses in id order (no deadlocks between sign-ins), re-checks the seat
    // condition on the locked row version, and takes a seat in the same statement.
    const granted = await em.execute<Row[]>(
      `with available as (
         select id from license where active and (seats is null or used < seats) order by id for update
       )
       update license l set used = l.used + 1 from available
       where l.id = available.id and (l.seats is null or l.used < l.seats)
       returning l.id, l.name`,
    );
    if (granted.length > 0) {
      await em.execute(
        `insert into license_grant (license_id, user_id)
         select id::uuid, ? from jsonb_array_elements_text(?::jsonb) id`,
        [userId, JSON.stringify(granted.map((g) => g.id))],
      );
    }
    return granted
      .map((g) => ({ id: String(g.id), name: String(g.name) }))
      .sort((x, y) => x.name.localeCompare(y.name));
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
