import { ScimError } from './errors.js';

export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export type ScimResource = Record<string, unknown>;

/** What jitprov keeps of a SCIM User: the writable attributes, as the client sent them. */
const READ_ONLY = ['id', 'meta', 'groups'];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Entra sends booleans as strings ("False") in PATCH values and sometimes in bodies: the SCIM
 * boolean `active` is read leniently, anything else refused.
 */
export function activeOf(resource: ScimResource): boolean {
  const v = resource.active;
  if (v === undefined || v === null) return true;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ScimError(400, 'active must be a boolean', 'invalidValue');
}

/** A User resource as a client sent it (POST, PUT, the result of a PATCH), checked and normalised. */
export function checkUser(body: unknown): ScimResource {
  if (!isObject(body)) throw new ScimError(400, 'the body is not a JSON object', 'invalidSyntax');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(USER_SCHEMA)) {
    throw new ScimError(400, `schemas must include ${USER_SCHEMA}`, 'invalidSyntax');
  }
  const userName = body.userName;
  if (typeof userName !== 'string' || userName.trim() === '' || userName.length > 512) {
    throw new ScimError(400, 'userName is required: a string of 1–512 characters', 'invalidValue');
  }
  if (
    body.externalId !== undefined &&
    body.externalId !== null &&
    (typeof body.externalId !== 'string' || body.externalId.length > 512)
  ) {
    throw new ScimError(400, 'externalId must be a string of at most 512 characters', 'invalidValue');
  }
  for (const list of ['emails', 'phoneNumbers']) {
    const v = body[list];
    if (
      v !== undefined &&
      (!Array.isArray(v) || v.some((x) => !isObject(x) || typeof x.value !== 'string'))
    ) {
      throw new ScimError(400, `${list} must be a list of { value, type, primary }`, 'invalidValue');
    }
  }
  const resource: ScimResource = {};
  for (const [k, v] of Object.entries(body)) if (!READ_ONLY.includes(k)) resource[k] = v;
  resource.userName = userName.trim();
  resource.active = activeOf(body);
  return resource;
}

type Values = Record<string, string[]>;

function put(out: Values, key: string, value: unknown): void {
  if (value === undefined || value === null) return;
  const s =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : null;
  if (s === null || s.trim() === '') return;
  const list = out[key] ?? [];
  list.push(s);
  out[key] = list;
}

/** A multi-valued attribute's values: the primary one first, then the others. */
function multi(out: Values, name: string, list: unknown): void {
  if (!Array.isArray(list)) return;
  const items = list.filter(isObject).sort((a, b) => Number(b.primary === true) - Number(a.primary === true));
  for (const item of items) {
    put(out, `${name}.value`, item.value);
    if (typeof item.type === 'string') put(out, `${name}[type eq "${item.type}"].value`, item.value);
  }
}

/**
 * The resource as attributes the mapping engine reads, by SCIM attribute path: `userName`,
 * `name.givenName`, `emails.value` (primary first), `emails[type eq "work"].value`, the enterprise
 * extension's `department` both by its full URN path and by its short name, and so on. One set of
 * mappings can then serve the SAML and the SCIM roads (a mapping's attribute is either).
 */
export function attributesOf(resource: ScimResource): Values {
  const out: Values = {};
  for (const key of [
    'userName',
    'externalId',
    'displayName',
    'nickName',
    'title',
    'userType',
    'preferredLanguage',
    'locale',
    'timezone',
  ]) {
    put(out, key, resource[key]);
  }
  put(out, 'active', resource.active);
  const name = isObject(resource.name) ? resource.name : {};
  for (const key of [
    'givenName',
    'familyName',
    'middleName',
    'formatted',
    'honorificPrefix',
    'honorificSuffix',
  ]) {
    put(out, `name.${key}`, name[key]);
  }
  multi(out, 'emails', resource.emails);
  multi(out, 'phoneNumbers', resource.phoneNumbers);
  if (Array.isArray(resource.addresses)) {
    for (const a of resource.addresses.filter(isObject)) {
      for (const key of ['streetAddress', 'locality', 'region', 'postalCode', 'country', 'formatted']) {
        put(out, `addresses.${key}`, a[key]);
        if (typeof a.type === 'string') put(out, `addresses[type eq "${a.type}"].${key}`, a[key]);
      }
    }
  }
  const ext = isObject(resource[ENTERPRISE_SCHEMA])
    ? (resource[ENTERPRISE_SCHEMA] as Record<string, unknown>)
    : {};
  for (const key of ['employeeNumber', 'costCenter', 'organization', 'division', 'department']) {
    put(out, `${ENTERPRISE_SCHEMA}:${key}`, ext[key]);
    put(out, key, ext[key]);
  }
  const manager = isObject(ext.manager) ? ext.manager : {};
  put(out, `${ENTERPRISE_SCHEMA}:manager.value`, manager.value);
  put(out, 'manager.value', manager.value);
  return out;
}

/** The resource a GET answers: what was written, with id, active and meta. */
export function presentUser(
  row: { userId: string; resource: ScimResource; active: boolean; createdAt: Date; updatedAt: Date },
  baseUrl: string,
): ScimResource {
  return {
    ...row.resource,
    schemas: [USER_SCHEMA, ...(row.resource[ENTERPRISE_SCHEMA] ? [ENTERPRISE_SCHEMA] : [])],
    id: row.userId,
    active: row.active,
    meta: {
      resourceType: 'User',
      created: row.createdAt.toISOString(),
      lastModified: row.updatedAt.toISOString(),
      location: `${baseUrl}/Users/${row.userId}`,
      version: `W/"${row.updatedAt.getTime()}"`,
    },
  };
}
