import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { FieldChange, LicenseDecision, MappingFallback } from '../audit/provisioning-event.entity.js';
import { ProvisioningEvent } from '../audit/provisioning-event.entity.js';
import { newSessionToken } from '../auth/tokens.js';
import { AppError, asAppError } from '../errors.js';
import { planLicenses } from '../licenses/license-rules.js';
import { type MappedValue, mapValues, valuesOrFailure } from '../mapping/engine.js';
import type { TransformResult, TransformRunner } from '../mapping/transform-calls.js';
import { transformItems } from '../mapping/transform-calls.js';
import { contactValues, flattenContact, planContactWrite } from '../mapping/write-plan.js';
import { inSpan } from '../metrics/tracing.js';
import { rolesFor } from '../users/roles.js';
import type { Configurations, ConnectionConfig } from './configuration.js';
import type { Identified, Subject, Via } from './identity.js';
import {
  type Provisioned,
  type ProvisionInput,
  provision as provisionSql,
  type Refusal,
  readContact,
  type Who,
} from './provisioning.sql.js';
import { committedBySession } from './recover.sql.js';
import { TransientRetries } from './transient.js';

/** How a road (a protocol's adapter) takes part in a provisioning. */
export interface Road {
  via: Via;
  /** Open a session for the person (a sign-in) or not. */
  session: boolean;
  /** What the audit says of a refusal that comes before `identify` tells more. */
  subject: Subject;
  /**
   * A directory write (SCIM) rather than a sign-in: create only (a POST), and the status it sets
   * (deprovisioning blocks, reactivation unblocks) with whether blocking gives back the seats.
   */
  directory?: {
    /** The user the write is about (a SCIM resource id); left out on a create. */
    userId?: string;
    mustCreate?: boolean;
    status?: 'ACTIVE' | 'BLOCKED';
    releaseSeats?: boolean;
    /** The directory's record of the person, written in the same transaction. */
    record?: { resource: Record<string, unknown>; deleted: boolean };
  };
  /**
   * The verified identity, for this configuration of the connection (the SAML road validates the
   * response against it). Called again, with a fresh configuration, when the cached one was stale;
   * `attempt.connectionLost`: an earlier attempt lost its database connection (its writes may have
   * committed).
   */
  identify(config: ConnectionConfig, attempt?: { connectionLost: boolean }): Promise<Identified>;
}

export interface ProvisionResult {
  connectionId: string;
  userId: string;
  username: string;
  contactId: string | null;
  created: boolean;
  licensesGranted: { id: string; name: string }[];
  changes: FieldChange[];
  /** Mappings that failed and fell back by their policy (the column kept, or its default written). */
  fallbacks: MappingFallback[];
  /** What each license rule did (a connection without rules: every license granted to a new user). */
  licenseDecisions: LicenseDecision[];
  /** The roles the user holds after it, by name. */
  roles: string[];
  /** The groups were unknown (Entra's overage): roles and group rules kept what the person held. */
  groupOverage: boolean;
  session: { id: string; token: string; expiresAt: Date } | null;
  /** Wall time of the stages, in ms: the road's identification, the transforms, the database. */
  timings: { identifyMs: number; transformsMs: number; databaseMs: number };
}

export interface RefusalRecord {
  connectionId: string | null;
  subject: Subject;
  via: Via;
  error: AppError;
}

const MAX_ATTEMPTS = 5;

/** The mapped values, their fallbacks, and the license rules' expression results. */
interface Mapped {
  values: MappedValue[];
  fallbacks: MappingFallback[];
  expressions: readonly TransformResult[];
}

/** A refusal of the transaction the core acts on itself rather than passing on. */
class Retry extends Error {
  constructor(readonly why: 'STALE_CONFIGURATION' | 'PLAN_OUTDATED' | 'CONTENTION') {
    super(why);
  }
}

/**
 * The stable key the person is bound by: the road's own (a SCIM externalId), else the attribute the
 * connection names; none when the connection binds by NameID (the username is the key then).
 */
function keyOf(config: ConnectionConfig, identity: Identified['identity']): string | undefined {
  if (identity.key !== undefined) return identity.key;
  const { identityKey, identityKeyAttribute } = config.connection;
  if (identityKey !== 'ATTRIBUTE') return undefined;
  const key = (identity.attributes[identityKeyAttribute ?? ''] ?? []).find((v) => v.trim() !== '');
  if (key === undefined) {
    throw new AppError(
      'IDENTITY_KEY_MISSING',
      `IdP connection "${config.connection.name}" binds people by attribute "${identityKeyAttribute}", which the IdP did not send`,
      { attribute: identityKeyAttribute },
    );
  }
  return key;
}

/** What a directory write adds to the transaction's input (its user id travels as Who.userId). */
function directoryInput({ userId: _, ...rest }: NonNullable<Road['directory']>): Partial<ProvisionInput> {
  return rest;
}

/** The roles (by id) and license plan of one sign-in, by the connection's rules. */
function ruleInput(
  config: ConnectionConfig,
  identity: Identified['identity'],
  expressionResults: readonly TransformResult[],
): Pick<ProvisionInput, 'isAdmin' | 'roles' | 'licenses' | 'groupOverage'> {
  const { groups } = identity;
  const out: Pick<ProvisionInput, 'isAdmin' | 'roles' | 'licenses' | 'groupOverage'> = {
    groupOverage: groups === null,
  };
  if (groups !== null) {
    const roles = rolesFor(groups, config.roleRules, {
      groups: config.connection.adminGroups,
      roleId: config.adminRoleId,
    });
    out.roles = roles;
    // is_admin mirrors the admin role (what the admin API checks).
    out.isAdmin = config.adminRoleId
      ? roles.includes(config.adminRoleId)
      : config.connection.adminGroups.some((g) => groups.includes(g));
  }
  if (config.licenseRules.length > 0) {
    const expressionRules = config.licenseRules.filter((r) => r.kind === 'EXPRESSION');
    const expressions = new Map(
      expressionRules.map((r, k) => {
        const result = expressionResults[k];
        return [
          r.id,
          result?.ok
            ? { ok: true as const, value: result.value as unknown }
            : { ok: false as const, message: result?.error.message ?? 'not evaluated' },
        ];
      }),
    );
    out.licenses = planLicenses(config.licenseRules, { groups, expressions });
  }
  return out;
}

/** Refusals that no configuration could change (a credential used before): never confirmed again. */
const definitive = new WeakSet<Error>();

/**
 * The provisioning core: given a connection's configuration and a road that verifies who is
 * coming, it maps the attributes, plans the writes and applies user, contact, licenses, session,
 * one-time credential and audit event in one transaction (the jitprov_provision function), with
 * one retry loop for everything that may be run again: a configuration that changed meanwhile
 * (identify again with a fresh one), a contact refresh planned against an older contact (plan
 * again under the user's row lock), serialization failures and deadlocks (run again). Every
 * refusal is audited here, once, and thrown as the AppError the caller translates. It knows no
 * protocol: what is SAML about a sign-in stays in the road (src/sign-in).
 */
export function createProvisioning(deps: {
  orm: MikroORM;
  configurations: Configurations;
  transforms: TransformRunner;
  sessionTtlSeconds: number;
  logger: Logger;
}) {
  async function provision(start: ConnectionConfig, road: Road): Promise<ProvisionResult> {
    let config = start;
    let fresh = !start.cached;
    let identified: Identified | null = null;
    let mapped: Mapped | null = null;
    let outdated = false;
    let transformsMs = 0;
    const retries = new TransientRetries();
    const session = road.session ? newSessionToken() : null;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const { connection } = config;
          if (!connection.enabled) {
            throw new AppError('CONNECTION_DISABLED', `IdP connection "${connection.name}" is disabled`, {});
          }
          identified ??= await road.identify(config, { connectionLost: retries.connectionLost });
          if (!mapped) {
            const started = performance.now();
            const subject = {
              nameId: identified.identity.username,
              attributes: identified.identity.attributes,
            };
            const results =
              identified.transforms ??
              (config.transforms.length > 0
                ? await deps.transforms.transform(transformItems(config.transforms, subject))
                : []);
            mapped = {
              ...valuesOrFailure(
                mapValues(config.rules, subject, results.slice(0, config.mappingTransforms), config.fields),
              ),
              expressions: results.slice(config.mappingTransforms),
            };
            transformsMs = identified.timings.transformsMs + (performance.now() - started);
          }
          const writing = performance.now();
          const r = await inSpan('jitprov.transaction', { 'jitprov.attempt': attempt }, () =>
            apply(config, identified as Identified, mapped as NonNullable<typeof mapped>, road, outdated, {
              session,
              connectionLost: retries.connectionLost,
            }),
          );
          return {
            ...r,
            timings: {
              identifyMs: identified.timings.identifyMs - identified.timings.transformsMs,
              transformsMs,
              databaseMs: performance.now() - writing,
            },
          };
        } catch (e) {
          if (attempt >= MAX_ATTEMPTS) {
            throw e instanceof Retry
              ? new AppError('CONFLICT', 'the sign-in kept meeting concurrent changes; try again')
              : e;
          }
          if (e instanceof Retry && e.why === 'PLAN_OUTDATED') {
            outdated = true;
            continue;
          }
          // Another person took the username meanwhile: the next run finds who holds it.
          if (e instanceof Retry && e.why === 'CONTENTION') continue;
          if (await retries.again(e, attempt)) continue;
          // A configuration read from memory may be behind the database: a refusal it caused is
          // confirmed against a fresh read first (once), and the road identifies again with it.
          const stale =
            !fresh &&
            (e instanceof Retry ||
              (e instanceof AppError &&
                !definitive.has(e) &&
                !(await deps.configurations.isCurrent(config))));
          if (!stale) {
            if (e instanceof Retry) {
              throw new AppError('CONFLICT', 'the IdP connection configuration changed during the sign-in');
            }
            throw e;
          }
          const reloaded = await deps.configurations.reload(config);
          if (!reloaded) {
            throw new AppError(
              'CONNECTION_DISABLED',
              `IdP connection "${config.connection.name}" was removed`,
            );
          }
          config = reloaded;
          fresh = true;
          identified = null;
          mapped = null;
        }
      }
    } catch (e) {
      const error = asAppError(e);
      if (error.code === 'INTERNAL') deps.logger.error({ err: e }, 'provisioning failed unexpectedly');
      await recordRefusal({
        connectionId: config.connection.id,
        subject: identified?.subject ?? road.subject,
        via: road.via,
        error,
      }).catch((auditError: unknown) =>
        deps.logger.error({ err: auditError, code: error.code }, 'could not record the refused sign-in'),
      );
      throw error;
    }
  }

  /** One run of the transaction; a contact refresh that found the contact changed runs locked. */
  async function apply(
    config: ConnectionConfig,
    identified: Identified,
    { values: mapped, fallbacks, expressions }: Mapped,
    road: Road,
    outdated: boolean,
    {
      session,
      connectionLost,
    }: { session: ReturnType<typeof newSessionToken> | null; connectionLost: boolean },
  ): Promise<Omit<ProvisionResult, 'timings'>> {
    const { connection } = config;
    const { identity, credential } = identified;
    const key = keyOf(config, identity);
    const email = mapped.find((m) => m.field.name === 'email')?.value;
    const who: Who = {
      connectionId: connection.id,
      username: identity.username,
      ...(road.directory?.userId ? { userId: road.directory.userId } : {}),
      ...(key !== undefined ? { key } : {}),
      linkPolicy: connection.linkPolicy,
      ...(typeof email === 'string' ? { email } : {}),
    };
    const rules = ruleInput(config, identity, expressions);
    const create = planContactWrite(null, mapped);
    const sessionExpiresAt = new Date(Date.now() + deps.sessionTtlSeconds * 1000);
    const input = (refresh: ProvisionInput['refresh'] | null): ProvisionInput => ({
      configVersion: connection.configVersion,
      ...who,
      ...rules,
      ...(road.directory ? directoryInput(road.directory) : {}),
      via: road.via,
      ...(credential
        ? {
            credential: {
              issuer: credential.issuer,
              id: credential.id,
              expiresAt: credential.expiresAt.toISOString(),
            },
          }
        : {}),
      ...(session ? { session: { hash: session.hash, expiresAt: sessionExpiresAt.toISOString() } } : {}),
      create: { values: contactValues(create.writes), changes: create.changes },
      ...(refresh ? { refresh } : {}),
      fallbacks,
      // What the person's attributes were, for checking a mapping change against recent sign-ins.
      // (Sign-ins only: a directory write's attributes are not what an IdP's assertion carries.)
      ...(connection.sampleSize > 0 && !road.directory ? { sample: identity.attributes } : {}),
    });
    const em = deps.orm.em.fork();
    let r: Provisioned | { refusal: Refusal };
    if (connection.refreshOnLogin && outdated) {
      // Planned again with the user row locked, which every provisioning of this user takes
      // before it writes the contact.
      r = await em.transactional(async (tx) =>
        provisionSql(tx, input(await planRefresh(tx, who, mapped, true))),
      );
    } else {
      const refresh = connection.refreshOnLogin ? await planRefresh(em, who, mapped) : null;
      r = await provisionSql(em, input(refresh));
    }
    // A replay after a lost connection may be this sign-in's own attempt, committed unanswered.
    if ('refusal' in r && r.refusal === 'REPLAY' && session && connectionLost) {
      r = (await committedBySession(em, session.hash)) ?? r;
    }
    if ('refusal' in r) throw refusalError(r, identified, config);
    return {
      connectionId: connection.id,
      userId: r.userId,
      username: identity.username,
      contactId: r.contactId,
      created: r.created,
      licensesGranted: r.licenses.sort((x, y) => x.name.localeCompare(y.name)),
      changes: r.changes,
      fallbacks,
      licenseDecisions: r.licenseDecisions,
      roles: r.roles,
      groupOverage: identity.groups === null,
      session:
        session && r.sessionId
          ? { id: r.sessionId, token: session.token, expiresAt: sessionExpiresAt }
          : null,
    };
  }

  /**
   * A returning user's contact refresh, planned by the write policies against the contact as it is
   * now; the transaction applies it only if the mapped columns still hold what was read here. null
   * when the user does not exist yet (a new user takes the create plan).
   */
  async function planRefresh(
    em: Parameters<typeof readContact>[0],
    who: Who,
    mapped: readonly MappedValue[],
    lock = false,
  ): Promise<ProvisionInput['refresh'] | null> {
    const read = await readContact(em, who, lock);
    const { userExists } = read;
    const contact = flattenContact(read.contact);
    if (!userExists) return null;
    const { writes, changes } = planContactWrite(contact, mapped);
    return {
      contactExists: contact !== null,
      expect: contact
        ? Object.fromEntries(mapped.map((m) => [m.field.column, contact[m.field.column] ?? null]))
        : {},
      values: contactValues(writes),
      changes,
    };
  }

  /** The audit row of a refused provisioning, in its own transaction (the refused one wrote nothing). */
  async function recordRefusal(r: RefusalRecord): Promise<void> {
    await deps.orm.em.fork().insert(ProvisioningEvent, {
      connectionId: r.connectionId,
      nameId: r.subject.nameId,
      issuer: r.subject.issuer,
      assertionId: r.subject.credentialId,
      outcome: 'REJECTED',
      errorCode: r.error.code,
      errorMessage: r.error.message,
      via: r.via,
    });
  }

  return { provision, recordRefusal, configurations: deps.configurations };
}
export type Provisioning = ReturnType<typeof createProvisioning>;

function refusalError(
  { refusal, license }: { refusal: Refusal; license?: string | null },
  identified: Identified,
  config: ConnectionConfig,
): Error {
  const { username } = identified.identity;
  switch (refusal) {
    case 'STALE_CONFIGURATION':
    case 'PLAN_OUTDATED':
    case 'CONTENTION':
      return new Retry(refusal);
    case 'LINK_REFUSED':
      return new AppError(
        'LINK_REFUSED',
        `user "${username}" exists and may not be linked to this person (link policy ${config.connection.linkPolicy})`,
        { linkPolicy: config.connection.linkPolicy },
      );
    case 'USER_EXISTS':
      return new AppError('USER_EXISTS', `user "${username}" exists already`);
    case 'USERNAME_TAKEN':
      return new AppError('USERNAME_TAKEN', `the new username "${username}" belongs to another user`);
    case 'LICENSE_SEATS_EXHAUSTED': {
      const rule = config.licenseRules.find((r) => r.licenseId === license);
      return new AppError(
        'LICENSE_SEATS_EXHAUSTED',
        `license "${rule?.license ?? license}" has no free seat, and its rule refuses a sign-in without one`,
        { licenseId: license ?? null, ruleId: rule?.id ?? null },
      );
    }
    case 'REPLAY': {
      const error =
        identified.credential?.replayed() ?? new AppError('CONFLICT', 'this credential was used before');
      definitive.add(error);
      return error;
    }
    case 'JIT_DISABLED':
      return new AppError('JIT_DISABLED', `user "${username}" does not exist and JIT provisioning is off`);
    case 'OTHER_CONNECTION':
      return new AppError('FORBIDDEN', `user "${username}" belongs to another IdP connection`);
    case 'USER_BLOCKED':
      return new AppError('USER_BLOCKED', `user "${username}" is blocked`);
  }
}
