import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { type AppError, asAppError } from '../errors.js';
import { readCapped } from '../http/body.js';
import type { SpKeyStore } from '../saml/sp-keys.js';
import { buildSpMetadata } from '../saml/sp-metadata.js';
import type { AuthnRequests } from './authn-requests.js';
import type { SignInFlow, SignInResult } from './flow.js';

/** The browser's session cookie, set by the HTML ACS answer (JSON callers take the token instead). */
export const SESSION_COOKIE = 'jitprov_session';

/** The session token in a Cookie header, if one is there. */
export function sessionCookieOf(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=') || null;
  }
  return null;
}

const json = (status: number, body: unknown, extra: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...extra },
  });

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(status: number, title: string, body: string, extra: Record<string, string> = {}): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    {
      status,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'",
        'cache-control': 'no-store',
        ...extra,
      },
    },
  );
}

function refusal(error: AppError, wantsJson: boolean): Response {
  const body = { error: { code: error.code, message: error.message } };
  if (wantsJson) return json(error.httpStatus, body);
  return html(
    error.httpStatus,
    'Sign-in refused',
    `<p>${escapeHtml(error.message)}</p><p>Code: ${error.code}</p>`,
  );
}

/** The IdP-facing routes: HTTP-POST ACS, SP metadata, SP-initiated login. Thin: the work is in the services. */
export function createSamlRoutes(deps: {
  config: Config;
  signIn: SignInFlow;
  authnRequests: AuthnRequests;
  spKeys: SpKeyStore;
  logger: Logger;
}) {
  const { config } = deps;
  const secureCookie = new URL(config.publicUrl).protocol === 'https:';

  function sessionCookie(result: SignInResult): string {
    const maxAge = Math.max(0, Math.floor((result.session.expiresAt.getTime() - Date.now()) / 1000));
    // Lax: sent on the top-level navigation to the RelayState, never on cross-site subrequests.
    return `${SESSION_COOKIE}=${result.session.token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${
      secureCookie ? '; Secure' : ''
    }`;
  }
  // The form also carries RelayState and field names; leave room beyond the response itself.
  const maxBody = Math.ceil((config.samlMaxResponseBytes * 4) / 3) * 3 + 16 * 1024;

  /** Server-Timing (when enabled): each stage's wall time, waiting for a worker or the database included. */
  function timingHeaders(result: SignInResult, started: number): Record<string, string> {
    if (!config.serverTiming) return {};
    const t = result.timings;
    const dur = (ms: number) => ms.toFixed(2);
    return {
      'server-timing': [
        `validation;dur=${dur(t.identifyMs)}`,
        `transforms;dur=${dur(t.transformsMs)}`,
        `db;dur=${dur(t.databaseMs)}`,
        `acs;dur=${dur(performance.now() - started)}`,
      ].join(', '),
    };
  }

  async function acs(request: Request): Promise<Response> {
    const started = performance.now();
    const wantsJson = (request.headers.get('accept') ?? '').includes('application/json');
    const type = request.headers.get('content-type') ?? '';
    try {
      if (!type.startsWith('application/x-www-form-urlencoded')) {
        return json(415, {
          error: { code: 'SAML_RESPONSE_MALFORMED', message: 'expected an HTML form post' },
        });
      }
      const body = await readCapped(request, maxBody);
      if (body === null) {
        return json(413, { error: { code: 'SAML_RESPONSE_TOO_LARGE', message: 'request body too large' } });
      }
      const form = new URLSearchParams(body);
      const result = await deps.signIn.handle({
        samlResponse: form.get('SAMLResponse'),
        relayState: form.get('RelayState'),
        via: 'ACS_POST',
      });
      const payload = {
        created: result.created,
        // Global ids, as the GraphQL API uses them (`node(id:)` takes these).
        user: { id: encodeGlobalID('User', result.userId), username: result.username },
        contactId: result.contactId ? encodeGlobalID('Contact', result.contactId) : null,
        licensesGranted: result.licensesGranted.map((l) => l.name),
        fallbacks: result.fallbacks.map((f) => ({
          ...f,
          mappingId: encodeGlobalID('AttributeMapping', f.mappingId),
        })),
        licenseDecisions: result.licenseDecisions.map((d) => ({
          ...d,
          licenseId: encodeGlobalID('License', d.licenseId),
          ruleId: d.ruleId ? encodeGlobalID('LicenseRule', d.ruleId) : null,
        })),
        roles: result.roles,
        groupOverage: result.groupOverage,
        sessionToken: result.session.token,
        sessionExpiresAt: result.session.expiresAt.toISOString(),
      };
      const timing = timingHeaders(result, started);
      if (wantsJson) return json(200, { ...payload, redirectTo: result.redirectTo }, timing);
      if (result.redirectTo) {
        // 303: the browser follows with a GET, never re-posting the SAMLResponse.
        return new Response(null, {
          status: 303,
          headers: {
            location: result.redirectTo,
            'set-cookie': sessionCookie(result),
            'cache-control': 'no-store',
            ...timing,
          },
        });
      }
      return html(
        200,
        'Signed in',
        `<p>Signed in as <strong>${escapeHtml(result.username)}</strong>${result.created ? ' (account created)' : ''}.</p>`,
        { 'set-cookie': sessionCookie(result), ...timing },
      );
    } catch (e) {
      return refusal(asAppError(e), wantsJson);
    }
  }

  async function metadata(): Promise<Response> {
    try {
      const xml = buildSpMetadata({
        entityId: config.spEntityId,
        acsUrl: config.acsUrl,
        keys: await deps.spKeys.get(),
      });
      return new Response(xml, { status: 200, headers: { 'content-type': 'application/samlmetadata+xml' } });
    } catch (e) {
      deps.logger.error({ err: e }, 'SP metadata could not be built');
      return json(500, { error: { code: 'INTERNAL', message: 'internal error' } });
    }
  }

  /** GET /saml/login?connection=<id>&relayState=<url>: 302 to the IdP with an AuthnRequest. */
  async function login(request: Request): Promise<Response> {
    const wantsJson = (request.headers.get('accept') ?? '').includes('application/json');
    const params = new URL(request.url).searchParams;
    try {
      const location = await deps.authnRequests.start(params.get('connection'), params.get('relayState'));
      return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
    } catch (e) {
      const error = asAppError(e);
      if (error.code === 'INTERNAL') deps.logger.error({ err: e }, 'SP-initiated login failed unexpectedly');
      return refusal(error, wantsJson);
    }
  }

  return { acs, metadata, login };
}
