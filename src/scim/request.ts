import { type Filter, parse } from 'scim2-parse-filter';
import { readCapped } from '../http/body.js';
import { ScimError } from './errors.js';

/** Largest SCIM request body (a 1,000-member PATCH is about 60 KiB). */
const MAX_BODY_BYTES = 1024 * 1024;
/** Most resources one list answers (ServiceProviderConfig filter.maxResults). */
export const MAX_RESULTS = 200;

const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** A SCIM request's JSON body, at most MAX_BODY_BYTES (413 beyond). */
export async function readBody(request: Request): Promise<unknown> {
  const text = await readCapped(request, MAX_BODY_BYTES);
  if (text === null) throw new ScimError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new ScimError(400, 'the body is not JSON', 'invalidSyntax');
  }
}

/** A list request's filter (parsed by scim2-parse-filter), startIndex (1-based) and count (≤ MAX_RESULTS). */
export function listQuery(url: URL): { filter: Filter | null; startIndex: number; count: number } {
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

/** The operations of a PatchOp body (RFC 7644 §3.5.2), refused unless it names the schema and has some. */
export function patchOperations(raw: unknown): unknown[] {
  if (!raw || typeof raw !== 'object') throw new ScimError(400, 'the body is not a PatchOp', 'invalidSyntax');
  const body = raw as { schemas?: unknown; Operations?: unknown };
  if (!Array.isArray(body.schemas) || !body.schemas.includes(PATCH_SCHEMA)) {
    throw new ScimError(400, `schemas must include ${PATCH_SCHEMA}`, 'invalidSyntax');
  }
  if (!Array.isArray(body.Operations) || body.Operations.length === 0) {
    throw new ScimError(400, 'Operations must be a non-empty list', 'invalidSyntax');
  }
  return body.Operations;
}

/** A page of a list request, as a ListResponse. */
export const listResponse = (total: number, startIndex: number, resources: unknown[]) => ({
  schemas: [LIST_SCHEMA],
  totalResults: total,
  startIndex,
  itemsPerPage: resources.length,
  Resources: resources,
});
