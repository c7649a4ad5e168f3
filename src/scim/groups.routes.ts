import type { MikroORM } from '@mikro-orm/postgresql';
import type { ConnectionConfig } from '../provisioning/configuration.js';
import { GROUP_SCHEMA } from './discovery.js';
import { ScimError, scimJson } from './errors.js';
import {
  addMembers,
  deleteGroup,
  type GroupRow,
  getGroup,
  insertGroup,
  knownUsers,
  listGroups,
  membersOf,
  removeMembers,
  updateGroup,
} from './groups.sql.js';
import { listQuery, listResponse, patchOperations, readBody } from './request.js';

/**
 * /scim/v2/Groups: membership kept beside the users; a change is written in one transaction, then
 * each member whose groups changed is provisioned again through the core (`reprovision`, from the
 * Users routes), so that role and group license rules decide as for a sign-in.
 */
export function createGroupRoutes(deps: {
  orm: MikroORM;
  baseUrl: string;
  reprovision(config: ConnectionConfig, userIds: Iterable<string>): Promise<void>;
}) {
  const { baseUrl, reprovision } = deps;

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

  async function handle(request: Request, config: ConnectionConfig, id: string | null): Promise<Response> {
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
      return scimJson(
        200,
        listResponse(
          page.total,
          startIndex,
          page.rows.map((r) => presentGroup(r, members ? (members.get(r.id) ?? []) : null)),
        ),
      );
    }
    if (id === null && method === 'POST') {
      const group = checkGroup(await readBody(request));
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
      const raw = await readBody(request);
      const changed = new Set<string>();
      const plan: GroupChange[] = method === 'PUT' ? putChanges(checkGroup(raw)) : patchChanges(raw);
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

function putChanges(g: CheckedGroup): GroupChange[] {
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
  const out: GroupChange[] = [];
  for (const o of patchOperations(raw) as { op?: unknown; path?: unknown; value?: unknown }[]) {
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
