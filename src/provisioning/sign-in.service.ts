import type { MikroORM } from '@mikro-orm/postgresql';
import type { FieldChange } from '../audit/provisioning-event.entity.js';
import { newSessionToken } from '../auth/tokens.js';
import { isRetryable, sqlStateOf } from '../db/errors.js';
import { type RawClient, withRawClient } from '../db/raw.js';
import { AppError, asAppError } from '../errors.js';
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
  /** Wall time of the sign-in's stages, in ms: the transforms' round trip and the database's. */
  timings: { transformsMs: number; databaseMs: number };
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

/** Contact columns and values as the sign-in function takes them (lists as JSON arrays). */
const valuesOf = (writes: readonly MappedValue[]): Record<string, unknown> =>
  Object.fromEntries(writes.map((m) => [m.field.column, m.value]));

interface RefreshPlan {
  contactExists: boolean;
  expect: Record<string, unknown>;
  values: Record<string, unknown>;
  changes: FieldChange[];
}

interface SignInRow {
  userId: string;
  created: boolean;
  contactId: string | null;
  sessionId: string;
  licenses: { id: string; name: string }[];
  changes: FieldChange[];
}

/** The sign-in function refuses by raising P0001 with the code as its message. */
function refusalOf(e: unknown, a: ValidatedAssertion): Error {
  if (sqlStateOf(e) !== 'P0001') return asAppError(e);
  switch ((e as Error).message) {
    case 'STALE_CONFIGURATION':
      return new StaleConfiguration();
    case 'SAML_REPLAY':
      return new AppError('SAML_REPLAY', 'this assertion has already been used', {
        assertionId: a.assertionId,
      });
    case 'JIT_DISABLED':
      return new AppError('JIT_DISABLED', `user "${a.nameId}" does not exist and JIT provisioning is off`);
    case 'FORBIDDEN':
      return new AppError('FORBIDDEN', `user "${a.nameId}" belongs to another IdP connection`);
    case 'USER_BLOCKED':
      return new AppError('USER_BLOCKED', `user "${a.nameId}" is blocked`);
    default:
      return asAppError(e);
  }
}

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

/**
 * The one provisioning transaction: replay record, user, contact, licenses, session and audit
 * event commit together or not at all. The application decides what to write (mappings, write
 * policies, the changes for the audit); the jitprov_sign_in function applies it in one round trip
 * with the statements whose concurrency behaviour is the point (see its migration): the unique
 * username with ON CONFLICT makes 50 racing first sign-ins create one user, and the conditional
 * seat UPDATE never oversubscribes a license.
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
    // transaction, so locks are held only for the writes.
    const started = performance.now();
    const mapped = await applyMappings(rules, assertion, deps.plugins);
    const mappedAt = performance.now();
    const timed = (result: Omit<SignInResult, 'timings'>): SignInResult => ({
      ...result,
      timings: { transformsMs: mappedAt - started, databaseMs: performance.now() - mappedAt },
    });
    const create = planContactWrite(null, mapped);
    let outdated = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return timed(
          await withRawClient(deps.orm, async (db) => {
            if (!(connection.refreshOnLogin && outdated)) {
              const refresh = connection.refreshOnLogin
                ? await planRefresh(db, assertion.nameId, mapped)
                : null;
              return await provision(db, connection, assertion, via, create, refresh);
            }
            // A refresh planned against a contact that changed meanwhile: plan again with the user
            // row locked, which every sign-in of this user takes before it writes the contact.
            await db.query('begin');
            try {
              const refresh = await planRefresh(db, assertion.nameId, mapped, true);
              const result = await provision(db, connection, assertion, via, create, refresh);
              await db.query('commit');
              return result;
            } catch (e) {
              await db.query('rollback').catch(() => undefined);
              throw e;
            }
          }),
        );
      } catch (e) {
        outdated = sqlStateOf(e) === 'P0001' && (e as Error).message === 'PLAN_OUTDATED';
        if (attempt < MAX_ATTEMPTS && (outdated || isRetryable(e))) continue;
        throw refusalOf(e, assertion);
      }
    }
  }

  /**
   * A returning user's contact refresh, planned by the write policies against the contact as it is
   * now; the transaction applies it only if the mapped columns still hold what was read here. null
   * when the user does not exist yet (a new user takes the create plan).
   */
  async function planRefresh(
    db: RawClient,
    nameId: string,
    mapped: readonly MappedValue[],
    lock = false,
  ): Promise<RefreshPlan | null> {
    // Read after the lock is held, in a statement of its own: a statement that waited for the lock
    // would still see the contact as it was when that statement began.
    if (lock) await db.query('select 1 from app_user where username = $1 for update', [nameId]);
    const { rows } = await db.query(
      'select c.* from app_user u left join contact c on c.user_id = u.id where u.username = $1',
      [nameId],
    );
    const row = rows[0];
    if (!row) return null;
    const current = row.id === null ? null : row;
    const { writes, changes } = planContactWrite(current, mapped);
    return {
      contactExists: current !== null,
      expect: current
        ? Object.fromEntries(mapped.map((m) => [m.field.column, current[m.field.column] ?? null]))
        : {},
      values: valuesOf(writes),
      changes,
    };
  }

  /**
   * The whole provisioning transaction in one round trip: the jitprov_sign_in function (see its
   * migration) records the assertion against replay, matches or creates the user, writes the
   * contact as planned, takes license seats, opens the session and writes the audit event, all or
   * nothing, after checking that the connection is still at the configuration version read.
   */
  async function provision(
    db: RawClient,
    connection: SignInConnection,
    a: ValidatedAssertion,
    via: SignInVia,
    create: { writes: MappedValue[]; changes: FieldChange[] },
    refresh: RefreshPlan | null,
  ): Promise<Omit<SignInResult, 'timings'>> {
    const session = newSessionToken();
    const sessionExpiresAt = new Date(Date.now() + deps.sessionTtlSeconds * 1000);
    const input = {
      connectionId: connection.id,
      configVersion: connection.configVersion,
      issuer: a.issuer,
      assertionId: a.assertionId,
      notOnOrAfter: a.notOnOrAfter.toISOString(),
      nameId: a.nameId,
      isAdmin: holdsAdminRole(connection, a),
      sessionHash: session.hash,
      sessionExpiresAt: sessionExpiresAt.toISOString(),
      via,
      create: { values: valuesOf(create.writes), changes: create.changes },
      ...(refresh ? { refresh } : {}),
    };
    const { rows } = await db.query<{ r: SignInRow }>('select jitprov_sign_in($1::jsonb) as r', [
      JSON.stringify(input),
    ]);
    const r = rows[0]?.r;
    if (!r) throw new Error('jitprov_sign_in returned nothing');
    return {
      userId: r.userId,
      contactId: r.contactId,
      created: r.created,
      licensesGranted: r.licenses.sort((x, y) => x.name.localeCompare(y.name)),
      changes: r.changes,
      sessionId: r.sessionId,
      sessionToken: session.token,
      sessionExpiresAt,
    };
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
