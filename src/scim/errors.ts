/** RFC 7644 §3.12: an error in the SCIM error schema, with its HTTP status and scimType. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export const SCIM_CONTENT_TYPE = 'application/scim+json';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimType,
  ) {
    super(message);
  }
}

export function scimJson(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': SCIM_CONTENT_TYPE, ...headers },
  });
}

export function scimErrorResponse(e: ScimError): Response {
  return scimJson(
    e.status,
    {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: String(e.status),
      ...(e.scimType ? { scimType: e.scimType } : {}),
      detail: e.message,
    },
    e.status === 401 ? { 'www-authenticate': 'Bearer realm="jitprov SCIM"' } : {},
  );
}
