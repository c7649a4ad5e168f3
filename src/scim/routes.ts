import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { scimPatch } from 'scim-patch';
import { type Filter, parse } from 'scim2-parse-filter';
import { hashToken } from '../auth/tokens.js';
import { AppError } from '../errors.js';
import { readCapped } from '../http/body.js';
import type { ConnectionConfig } from '../provisioning/configuration.js';
import type { Provisioning, Road } from '../provisioning/provision.js';
import { discovery, GROUP_SCHEMA } from './discovery.js';
import { ScimError, scimErrorResponse, scimJson } from './errors.js';
import {
  addMembers,
  deleteGroup,
  type GroupRow,
  getGroup,
  groupsOfUser,
  insertGroup,
  knownUsers,
  listGroups,
  membersOf,
  removeMembers,
  updateGroup,
} from './groups.sql.js';
import {
  activeOf,
  attributesOf,
  checkUser,
  presentUser,
  type ScimResource,
  USER_SCHEMA,
} from './resource.js';
import {
  connectionOfToken,
  getScimUser,
  listScimUsers,
  type ScimUserRow,
  touchScimToken,
} from './users.sql.js';

/** Largest SCIM request body (a 1,000-member PATCH is about 60 KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Most resources one list answers (ServiceProviderConfig filter.maxResults). */
export const MAX_RESULTS = 200;
const TOUCH_EVERY_MS = 60_000;

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/**
 * SCIM 2.0 (RFC 7643/7644) at /scim/v2: the IdP's provisioning service creates, updates and
 * deprovisions users ahead of sign-in. A second road into the provisioning core: every write is one
 * jitprov_provision call (user, contact, licenses, roles kept, the SCIM record, the provisioning
 * event with its field diffs, via SCIM), with the connection's mappings reading SCIM attribute
 * paths. The bearer token names the connection.
 */
export function createScimRoutes(deps: {
  orm: MikroORM;
  provisioning: Provisioning;
  publicUrl: string;
  logger: Logger;
}) {
  const baseUrl = `${deps.publicUrl}/scim/v2`;
  const touched = new Map<string, number>();

  async function authenticate(request: Request): Promise<ConnectionConfig> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!m?.[1]) throw new ScimError(401, 'a SCIM bearer token is required');
    const found = await connectionOfToken(deps.orm.em.fork(), hashToken(m[1]));
    if (!found)
      throw new ScimError(401, 'the bearer token is not a live SCIM token of a connection with SCIM on');
    const now = Date.now();
    if ((touched.get(found.tokenId) ?? found.lastUsedAt?.getTime() ?? 0) < now - TOUCH_EVERY_MS) {
      touched.set(found.tokenId, now);
      if (touched.size > 10_000) touched.clear();
      await touchScimToken(deps.orm.em.fork(), found.tokenId);
    }
    const config = await deps.provisioning.configurations.byId(found.connectionId);
    if (!config) throw new ScimError(401, 'the connection of this token is gone');
    return config;
  }

  async function body(request: Request): Promise<unknown> {
    const text = await readCapped(request, MAX_BODY_BYTES);
    if (text === null) throw new ScimError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    try {
      return JSON.parse(text);
    } catch {
      throw new ScimError(400, 'the body is not JSON', 'invalidSyntax');
    }
  }

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

  async function users(request: Request, config: ConnectionConfig, id: string | null): Promise<Response> {
    const method = request.method;
    if (id === null && method === 'GET') {
      const url = new URL(request.url);
      const { filter, startIndex, count } = listQuery(url);
      const page = await listScimUsers(deps.orm.em.fork(), config.connection.id, filter, startIndex, count);
      return scimJson(200, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: page.total,
        startIndex,
        itemsPerPage: page.rows.length,
        Resources: page.rows.map(present),
      });
    }
    if (id === null && method === 'POST') {
      const userId = await write(config, checkUser(await body(request)), { mustCreate: true });
      return reread(config, userId, 201);
    }
    if (id === null) throw new ScimError(405, `${method} is not allowed on /Users`);
    if (method === 'GET') return scimJson(200, present(await existing(config, id)));
    if (method === 'PUT') {
      const row = await existing(config, id);
      const raw = await body(request);
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
      const patched = applyPatch(present(row), await body(request));
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

  const presentGroup = (row: GroupRow, members: { value: string; display: string }[] | null) => ({
    schemas: [GROUP_SCHEMA],
    id: row.id,
    displayName: row.display_name,
    ...(row.external_id ? { externalId: row.external_id } : {}),
    ...(members ? { members: members.map((m) => ({ ...m, $ref: `${baseUrl}/Users/${m.value}` })) } : {}),
    meta: {
      resourceType: 'Group',
      created: new Date(row.created_at).toISOString(),
      lastModified: new Date(row.updated_at).toISOString(),
      location: `${baseUrl}/Groups/${row.id}`,
    },
  });

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

  /** The user ids of `members` values, each a SCIM user of this connection (else invalidValue). */
  async function memberIds(config: ConnectionConfig, values: unknown): Promise<string[]> {
    if (values === undefined || values === null) return [];
    const list = Array.isArray(values) ? values : [values];
    const ids = list.map((m) => {
      const v = m && typeof m === 'object' ? (m as { value?: unknown }).value : m;
      if (typeof v !== 'string')
        throw new ScimError(400, 'a member is { "value": "<user id>" }', 'invalidValue');
      return v;
    });
    const known = await knownUsers(deps.orm.em.fork(), config.connection.id, ids);
    const unknown = ids.find((id) => !known.has(id));
    if (unknown)
      throw new ScimError(400, `member ${unknown} is not a User of this connection`, 'invalidValue');
    return ids;
  }

  async function groups(request: Request, config: ConnectionConfig, id: string | null): Promise<Response> {
    const method = request.method;
    const cid = config.connection.id;
    const read = async (groupId: string, status = 200) => {
      const em = deps.orm.em.fork();
      const row = await getGroup(em, cid, groupId);
      if (!row) throw new ScimError(404, `no Group ${groupId} here`, 'noTarget');
      const excluded = /members/i.test(new URL(request.url).searchParams.get('excludedAttributes') ?? '');
      const members = excluded ? null : ((await membersOf(em, [row.id])).get(row.id) ?? []);
      return scimJson(
        status,
        presentGroup(row, members),
        status === 201 ? { location: `${baseUrl}/Groups/${row.id}` } : {},
      );
    };
    if (id === null && method === 'GET') {
      const url = new URL(request.url);
      const { filter, startIndex, count } = listQuery(url);
      const em = deps.orm.em.fork();
      const page = await listGroups(em, cid, filter, startIndex, count);
      const excluded = /members/i.test(url.searchParams.get('excludedAttributes') ?? '');
      const members = excluded
        ? null
        : await membersOf(
            em,
            page.rows.map((r) => r.id),
          );
      return scimJson(200, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
        totalResults: page.total,
        startIndex,
        itemsPerPage: page.rows.length,
        Resources: page.rows.map((r) => presentGroup(r, members ? (members.get(r.id) ?? []) : null)),
      });
    }
    if (id === null && method === 'POST') {
      const group = checkGroup(await body(request));
      const ids = await memberIds(config, group.members);
      const created = await deps.orm.em.fork().transactional(async (tx) => {
        const [taken] = await listGroups(
          tx,
          cid,
          { op: 'eq', attrPath: 'displayName', compValue: group.displayName },
          1,
          1,
        ).then((p) => p.rows);
        if (taken) throw new ScimError(409, `a Group named "${group.displayName}" exists`, 'uniqueness');
        const groupId = await insertGroup(tx, cid, group.displayName, group.externalId);
        await addMembers(tx, groupId, ids);
        return groupId;
      });
      await reprovision(config, ids);
      return read(created, 201);
    }
    if (id === null) throw new ScimError(405, `${method} is not allowed on /Groups`);
    if (method === 'GET') return read(id);
    if (method === 'DELETE') {
      const em = deps.orm.em.fork();
      if (!(await getGroup(em, cid, id))) throw new ScimError(404, `no Group ${id} here`, 'noTarget');
      const former = ((await membersOf(em, [id])).get(id) ?? []).map((m) => m.value);
      await deleteGroup(em, id);
      await reprovision(config, former);
      return new Response(null, { status: 204 });
    }
    if (method === 'PUT' || method === 'PATCH') {
      const raw = await body(request);
      const changed = new Set<string>();
      const plan: GroupChange[] = method === 'PUT' ? putChanges(checkGroup(raw), id) : patchChanges(raw);
      const resolved: ResolvedChange[] = [];
      for (const c of plan) {
        resolved.push(
          c.kind === 'members'
            ? { ...c, ids: c.values === null ? null : await memberIds(config, c.values) }
            : c,
        );
      }
      await deps.orm.em.fork().transactional(async (tx) => {
        const row = await getGroup(tx, cid, id, true);
        if (!row) throw new ScimError(404, `no Group ${id} here`, 'noTarget');
        let displayName = row.display_name;
        let externalId = row.external_id;
        for (const c of resolved) {
          if (c.kind === 'displayName') displayName = c.value;
          else if (c.kind === 'externalId') externalId = c.value;
          else {
            const before = ((await membersOf(tx, [id])).get(id) ?? []).map((m) => m.value);
            if (c.op === 'replace') {
              await removeMembers(tx, id, null);
              await addMembers(tx, id, c.ids ?? []);
              for (const u of [...before, ...(c.ids ?? [])]) changed.add(u);
            } else if (c.op === 'add') {
              await addMembers(tx, id, c.ids ?? []);
              for (const u of c.ids ?? []) changed.add(u);
            } else {
              await removeMembers(tx, id, c.ids);
              for (const u of c.ids ?? before) changed.add(u);
            }
          }
        }
        await updateGroup(tx, id, displayName, externalId);
        if (displayName !== row.display_name || externalId !== row.external_id) {
          for (const m of (await membersOf(tx, [id])).get(id) ?? []) changed.add(m.value);
        }
      });
      await reprovision(config, changed);
      return read(id);
    }
    throw new ScimError(405, `${method} is not allowed on a Group`);
  }

  /** GET, POST, PUT, PATCH, DELETE under /scim/v2; every refusal in the SCIM error schema. */
  async function handle(request: Request, pathname: string): Promise<Response> {
    try {
      const path = pathname.replace(/^\/scim\/v2/, '').replace(/\/+$/, '') || '/';
      const config = await authenticate(request);
      const info = discovery(path, baseUrl);
      if (info) {
        if (request.method !== 'GET') throw new ScimError(405, 'discovery is read-only');
        return scimJson(200, info);
      }
      const m = /^\/Users(?:\/([^/]+))?$/i.exec(path);
      if (m) return await users(request, config, m[1] ? decodeURIComponent(m[1]) : null);
      const g = /^\/Groups(?:\/([^/]+))?$/i.exec(path);
      if (g) return await groups(request, config, g[1] ? decodeURIComponent(g[1]) : null);
      throw new ScimError(404, `no SCIM endpoint ${path}`);
    } catch (e) {
      if (e instanceof ScimError) return scimErrorResponse(e);
      deps.logger.error({ err: e }, 'SCIM request failed unexpectedly');
      return scimErrorResponse(new ScimError(500, 'internal error'));
    }
  }

  return { handle };
}

interface CheckedGroup {
  displayName: string;
  externalId: string | null;
  members: unknown;
}

function checkGroup(raw: unknown): CheckedGroup {
  if (!raw || typeof raw !== 'object')
    throw new ScimError(400, 'the body is not a JSON object', 'invalidSyntax');
  const g = raw as { schemas?: unknown; displayName?: unknown; externalId?: unknown; members?: unknown };
  if (!Array.isArray(g.schemas) || !g.schemas.includes(GROUP_SCHEMA)) {
    throw new ScimError(400, `schemas must include ${GROUP_SCHEMA}`, 'invalidSyntax');
  }
  if (typeof g.displayName !== 'string' || g.displayName.trim() === '' || g.displayName.length > 256) {
    throw new ScimError(400, 'displayName is required: 1–256 characters', 'invalidValue');
  }
  if (g.externalId !== undefined && g.externalId !== null && typeof g.externalId !== 'string') {
    throw new ScimError(400, 'externalId must be a string', 'invalidValue');
  }
  return {
    displayName: g.displayName.trim(),
    externalId: (g.externalId as string | undefined) ?? null,
    members: g.members,
  };
}

type GroupChange =
  | { kind: 'displayName'; value: string }
  | { kind: 'externalId'; value: string | null }
  | { kind: 'members'; op: 'add' | 'remove' | 'replace'; values: unknown[] | null };
type ResolvedChange =
  | Exclude<GroupChange, { kind: 'members' }>
  | { kind: 'members'; op: 'add' | 'remove' | 'replace'; ids: string[] | null };

function putChanges(g: CheckedGroup, _id: string): GroupChange[] {
  return [
    { kind: 'displayName', value: g.displayName },
    { kind: 'externalId', value: g.externalId },
    { kind: 'members', op: 'replace', values: Array.isArray(g.members) ? g.members : [] },
  ];
}

/**
 * A Group PATCH as Entra sends it: members added or removed in batches (`value` a list of
 * { value }), one removed by a value filter (`members[value eq "…"]`), all removed (`members`
 * without a value), the name replaced with or without a path; `op` in any case.
 */
function patchChanges(raw: unknown): GroupChange[] {
  const body = raw as { schemas?: unknown; Operations?: unknown };
  if (!body || !Array.isArray(body.schemas) || !body.schemas.includes(PATCH_SCHEMA)) {
    throw new ScimError(400, `schemas must include ${PATCH_SCHEMA}`, 'invalidSyntax');
  }
  if (!Array.isArray(body.Operations) || body.Operations.length === 0) {
    throw new ScimError(400, 'Operations must be a non-empty list', 'invalidSyntax');
  }
  const out: GroupChange[] = [];
  for (const o of body.Operations as { op?: unknown; path?: unknown; value?: unknown }[]) {
    const op = String(o?.op ?? '').toLowerCase();
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw new ScimError(400, `unknown op "${String(o?.op)}"`, 'invalidSyntax');
    const path = typeof o.path === 'string' ? o.path.trim() : null;
    const filtered = path ? /^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$/i.exec(path) : null;
    if (filtered) {
      if (op !== 'remove') throw new ScimError(400, 'a members value filter takes op remove', 'invalidPath');
      out.push({ kind: 'members', op: 'remove', values: [{ value: filtered[1] }] });
    } else if (path && /^members$/i.test(path)) {
      const values = o.value === undefined ? null : Array.isArray(o.value) ? o.value : [o.value];
      if (values === null && op !== 'remove')
        throw new ScimError(400, `${op} members needs a value`, 'invalidValue');
      out.push({ kind: 'members', op, values });
    } else if (path && /^displayName$/i.test(path)) {
      if (op === 'remove' || typeof o.value !== 'string' || !o.value.trim())
        throw new ScimError(400, 'displayName is required', 'invalidValue');
      out.push({ kind: 'displayName', value: o.value.trim() });
    } else if (path && /^externalId$/i.test(path)) {
      out.push({
        kind: 'externalId',
        value: op === 'remove' || typeof o.value !== 'string' ? null : o.value,
      });
    } else if (path && /^id$/i.test(path)) {
      throw new ScimError(400, 'id is immutable', 'mutability');
    } else if (path === null && o.value && typeof o.value === 'object' && !Array.isArray(o.value)) {
      const v = o.value as Record<string, unknown>;
      if ('id' in v) throw new ScimError(400, 'id is immutable', 'mutability');
      if (typeof v.displayName === 'string') out.push({ kind: 'displayName', value: v.displayName.trim() });
      if ('externalId' in v)
        out.push({ kind: 'externalId', value: typeof v.externalId === 'string' ? v.externalId : null });
      if (Array.isArray(v.members))
        out.push({ kind: 'members', op: op === 'remove' ? 'remove' : op, values: v.members });
    } else {
      throw new ScimError(
        400,
        `a Group PATCH path "${path ?? ''}" is not supported`,
        path ? 'invalidPath' : 'noTarget',
      );
    }
  }
  return out;
}

/** A list request's filter (parsed by scim2-parse-filter), startIndex (1-based) and count (≤ MAX_RESULTS). */
function listQuery(url: URL): { filter: Filter | null; startIndex: number; count: number } {
  const raw = url.searchParams.get('filter');
  let filter: Filter | null = null;
  if (raw) {
    try {
      filter = parse(raw);
    } catch (e) {
      throw new ScimError(
        400,
        `the filter does not parse: ${e instanceof Error ? e.message : 'invalid'}`,
        'invalidFilter',
      );
    }
  }
  const startIndex = Math.max(1, Number.parseInt(url.searchParams.get('startIndex') ?? '1', 10) || 1);
  const count = Math.min(
    MAX_RESULTS,
    Math.max(0, Number.parseInt(url.searchParams.get('count') ?? String(MAX_RESULTS), 10) || 0),
  );
  return { filter, startIndex, count };
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
  if (!raw || typeof raw !== 'object') throw new ScimError(400, 'the body is not a PatchOp', 'invalidSyntax');
  const body = raw as { schemas?: unknown; Operations?: unknown };
  if (!Array.isArray(body.schemas) || !body.schemas.includes(PATCH_SCHEMA)) {
    throw new ScimError(400, `schemas must include ${PATCH_SCHEMA}`, 'invalidSyntax');
  }
  if (!Array.isArray(body.Operations) || body.Operations.length === 0) {
    throw new ScimError(400, 'Operations must be a non-empty list', 'invalidSyntax');
  }
  const ops = body.Operations.map((o: unknown) => {
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
