import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { scimPatch } from 'scim-patch';
import { AppError } from '../errors.js';
import type { ConnectionConfig } from '../provisioning/configuration.js';
import type { Provisioning, Road } from '../provisioning/provision.js';
import { ScimError, scimJson } from './errors.js';
import { groupsOfUser } from './groups.sql.js';
import { listQuery, listResponse, patchOperations, readBody } from './request.js';
import {
  activeOf,
  attributesOf,
  checkUser,
  presentUser,
  type ScimResource,
  USER_SCHEMA,
} from './resource.js';
import { getScimUser, listScimUsers, type ScimUserRow } from './users.sql.js';

/**
 * /scim/v2/Users: every write is one jitprov_provision call through the core (a road of its own,
 * via SCIM), read back from the SCIM record it keeps.
 */
export function createUserRoutes(deps: {
  orm: MikroORM;
  provisioning: Provisioning;
  baseUrl: string;
  logger: Logger;
}) {
  const { baseUrl } = deps;

  const present = (row: ScimUserRow) =>
    presentUser(
      {
        userId: row.user_id,
        resource: row.resource,
        active: row.status === 'ACTIVE',
        createdAt: new Date(row.created_at),
        updatedAt: new Date(row.updated_at),
      },
      baseUrl,
    );

  /** One SCIM write through the core: create, replace, or deprovision a user. */
  async function write(
    config: ConnectionConfig,
    resource: ScimResource,
    opts: { userId?: string; mustCreate?: boolean; deleted?: boolean; groupsKnown?: boolean },
  ): Promise<string> {
    const active = opts.deleted ? false : activeOf(resource);
    const userName = String(resource.userName);
    const externalId =
      typeof resource.externalId === 'string' && resource.externalId !== '' ? resource.externalId : undefined;
    const road: Road = {
      via: 'SCIM',
      session: false,
      subject: { issuer: 'scim', nameId: userName, credentialId: null },
      directory: {
        ...(opts.userId ? { userId: opts.userId } : {}),
        ...(opts.mustCreate ? { mustCreate: true } : {}),
        status: active ? 'ACTIVE' : 'BLOCKED',
        releaseSeats: !active && config.connection.scimDeprovision === 'BLOCK_AND_RELEASE',
        record: { resource, deleted: opts.deleted === true },
      },
      async identify() {
        return {
          identity: {
            ...(externalId ? { key: externalId } : {}),
            username: userName,
            attributes: attributesOf(resource),
            // The SCIM Groups the user is a member of (Entra's object ids and names), so that the
            // role and group license rules decide as for a sign-in; unknown (roles kept) when the
            // connection's IdP pushes no groups, or for a user not created yet.
            groups: opts.userId ? await groupsOf(config, opts.userId, opts.groupsKnown === true) : null,
          },
          subject: { issuer: 'scim', nameId: userName, credentialId: null },
          timings: { identifyMs: 0, transformsMs: 0 },
        };
      },
    };
    try {
      return (await deps.provisioning.provision(config, road)).userId;
    } catch (e) {
      throw scimErrorOf(e);
    }
  }

  async function reread(config: ConnectionConfig, userId: string, status: number): Promise<Response> {
    const row = await getScimUser(deps.orm.em.fork(), config.connection.id, userId);
    if (!row) throw new ScimError(500, 'the user was written but cannot be read back');
    const resource = present(row);
    return scimJson(status, resource, { location: String((resource.meta as { location: string }).location) });
  }

  async function existing(config: ConnectionConfig, id: string): Promise<ScimUserRow> {
    const row = await getScimUser(deps.orm.em.fork(), config.connection.id, id);
    if (!row) throw new ScimError(404, `no User ${id} here`, 'noTarget');
    return row;
  }

  async function handle(request: Request, config: ConnectionConfig, id: string | null): Promise<Response> {
    const method = request.method;
    if (id === null && method === 'GET') {
      const url = new URL(request.url);
      const { filter, startIndex, count } = listQuery(url);
      const page = await listScimUsers(deps.orm.em.fork(), config.connection.id, filter, startIndex, count);
      return scimJson(200, listResponse(page.total, startIndex, page.rows.map(present)));
    }
    if (id === null && method === 'POST') {
      const userId = await write(config, checkUser(await readBody(request)), { mustCreate: true });
      return reread(config, userId, 201);
    }
    if (id === null) throw new ScimError(405, `${method} is not allowed on /Users`);
    if (method === 'GET') return scimJson(200, present(await existing(config, id)));
    if (method === 'PUT') {
      const row = await existing(config, id);
      const raw = await readBody(request);
      if (raw && typeof raw === 'object' && 'id' in raw && (raw as { id: unknown }).id !== id) {
        throw new ScimError(400, 'id is immutable', 'mutability');
      }
      const resource = checkUser(raw);
      checkExternalId(row, resource);
      await write(config, resource, { userId: id });
      return reread(config, id, 200);
    }
    if (method === 'PATCH') {
      const row = await existing(config, id);
      const patched = applyPatch(present(row), await readBody(request));
      if (patched.id !== id) throw new ScimError(400, 'id is immutable', 'mutability');
      const resource = checkUser(patched);
      checkExternalId(row, resource);
      await write(config, resource, { userId: id });
      return reread(config, id, 200);
    }
    if (method === 'DELETE') {
      const row = await existing(config, id);
      await write(config, row.resource, { userId: id, deleted: true });
      return new Response(null, { status: 204 });
    }
    throw new ScimError(405, `${method} is not allowed on a User`);
  }

  /**
   * A user's SCIM groups. Unknown (null) when the connection's IdP pushes no groups over SCIM, so
   * that a user write does not strip roles a SAML groups claim gave; known (possibly none) after a
   * group change, which is what decided them.
   */
  async function groupsOf(
    config: ConnectionConfig,
    userId: string,
    known: boolean,
  ): Promise<string[] | null> {
    const groups = await groupsOfUser(deps.orm.em.fork(), config.connection.id, userId);
    return groups ?? (known ? [] : null);
  }

  /** Members' roles and group license rules, decided again through the core after a membership change. */
  async function reprovision(config: ConnectionConfig, userIds: Iterable<string>): Promise<void> {
    const queue = [...new Set(userIds)];
    const run = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const row = await getScimUser(deps.orm.em.fork(), config.connection.id, id);
        if (!row) continue;
        await write(config, row.resource, { userId: id, groupsKnown: true }).catch((err: unknown) =>
          deps.logger.warn(
            { err, userId: id },
            'SCIM: a member could not be provisioned again after a group change',
          ),
        );
      }
    };
    await Promise.all(Array.from({ length: 4 }, run));
  }

  return { handle, reprovision };
}

/** An externalId, once the user is bound by it, is the person's key: a different one is refused. */
function checkExternalId(row: ScimUserRow, next: ScimResource): void {
  const before = row.resource.externalId;
  if (
    typeof before === 'string' &&
    before !== '' &&
    next.externalId !== undefined &&
    next.externalId !== before
  ) {
    throw new ScimError(400, 'externalId is the key this user is bound by and cannot change', 'mutability');
  }
}

/**
 * A PATCH (RFC 7644 §3.5.2) applied by scim-patch, with Entra's known quirks read leniently:
 * capitalised `op` values ("Replace"), booleans as strings ("False"), and a `value` object without
 * a path whose keys are attribute paths.
 */
export function applyPatch(current: ScimResource, raw: unknown): ScimResource {
  const ops = patchOperations(raw).map((o: unknown) => {
    if (!o || typeof o !== 'object')
      throw new ScimError(400, 'an operation is not an object', 'invalidSyntax');
    const op = String((o as { op?: unknown }).op ?? '').toLowerCase();
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw new ScimError(400, `unknown op "${String((o as { op?: unknown }).op)}"`, 'invalidSyntax');
    }
    const path = (o as { path?: unknown }).path;
    let value = (o as { value?: unknown }).value;
    if (typeof path === 'string' && /^active$/i.test(path) && typeof value === 'string')
      value = value.toLowerCase() === 'true';
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof (value as { active?: unknown }).active === 'string'
    ) {
      value = { ...value, active: String((value as { active: string }).active).toLowerCase() === 'true' };
    }
    if (typeof path === 'string' && /^id$/i.test(path))
      throw new ScimError(400, 'id is immutable', 'mutability');
    return { op, ...(typeof path === 'string' ? { path } : {}), ...(value !== undefined ? { value } : {}) };
  });
  try {
    const { meta: _meta, ...document } = current;
    const out = scimPatch(document as never, ops as never, {
      mutateDocument: false,
    }) as unknown as ScimResource;
    return { ...out, schemas: Array.isArray(out.schemas) ? out.schemas : [USER_SCHEMA] };
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const msg = e instanceof Error ? e.message : 'invalid';
    if (/NoTarget|NoPathInScimPatchOp/i.test(name)) throw new ScimError(400, msg, 'noTarget');
    throw new ScimError(
      400,
      `the PATCH cannot be applied: ${msg}`,
      name.includes('Path') ? 'invalidPath' : 'invalidValue',
    );
  }
}

/** The core's refusals as SCIM errors. */
function scimErrorOf(e: unknown): ScimError {
  if (e instanceof ScimError) return e;
  if (!(e instanceof AppError)) return new ScimError(500, 'internal error');
  switch (e.code) {
    case 'USER_EXISTS':
    case 'USERNAME_TAKEN':
    case 'LINK_REFUSED':
    case 'FORBIDDEN':
    case 'CONFLICT':
      return new ScimError(409, e.message, 'uniqueness');
    case 'MAPPING_VALUE_INVALID':
    case 'REQUIRED_ATTRIBUTE_MISSING':
    case 'TRANSFORM_FAILED':
    case 'TRANSFORM_TIMEOUT':
    case 'IDENTITY_KEY_MISSING':
      return new ScimError(400, e.message, 'invalidValue');
    case 'JIT_DISABLED':
    case 'CONNECTION_DISABLED':
    case 'LICENSE_SEATS_EXHAUSTED':
      return new ScimError(403, e.message);
    case 'DATABASE_UNAVAILABLE':
      return new ScimError(503, e.message);
    default:
      return new ScimError(e.httpStatus >= 500 ? 500 : 400, e.message);
  }
}
