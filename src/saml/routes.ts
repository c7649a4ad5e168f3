import { generateServiceProviderMetadata } from '@node-saml/node-saml';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { asAppError } from '../db/errors.js';
import type { AcsService } from './acs.service.js';

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(status: number, title: string, body: string): Response {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    {
      status,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'",
        'cache-control': 'no-store',
      },
    },
  );
}

/** Reads a request body, refusing more than `max` bytes without buffering the excess. */
async function readCapped(request: Request, max: number): Promise<string | null> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) return null;
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The IdP-facing routes: HTTP-POST ACS and SP metadata. Thin: the work is in AcsService. */
export function createSamlRoutes(deps: { config: Config; acs: AcsService; logger: Logger }) {
  const { config } = deps;
  // The form also carries RelayState and field names; leave room beyond the response itself.
  const maxBody = Math.ceil((config.samlMaxResponseBytes * 4) / 3) * 3 + 16 * 1024;

  async function acs(request: Request): Promise<Response> {
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
      const result = await deps.acs.handle({
        samlResponse: form.get('SAMLResponse'),
        relayState: form.get('RelayState'),
        via: 'ACS_POST',
      });
      const payload = {
        created: result.created,
        user: { id: result.userId, username: result.username },
        contactId: result.contactId,
        licensesGranted: result.licensesGranted.map((l) => l.name),
        sessionToken: result.sessionToken,
        sessionExpiresAt: result.sessionExpiresAt.toISOString(),
      };
      if (wantsJson) return json(200, payload);
      return html(
        200,
        'Signed in',
        `<p>Signed in as <strong>${escapeHtml(result.username)}</strong>${result.created ? ' (account created)' : ''}.</p>`,
      );
    } catch (e) {
      const error = asAppError(e);
      const body = { error: { code: error.code, message: error.message } };
      if (wantsJson) return json(error.httpStatus, body);
      return html(
        error.httpStatus,
        'Sign-in refused',
        `<p>${escapeHtml(error.message)}</p><p>Code: ${error.code}</p>`,
      );
    }
  }

  function metadata(): Response {
    const xml = generateServiceProviderMetadata({
      issuer: config.spEntityId,
      callbackUrl: config.acsUrl,
      wantAssertionsSigned: true,
      identifierFormat: null,
    });
    return new Response(xml, { status: 200, headers: { 'content-type': 'application/samlmetadata+xml' } });
  }

  return { acs, metadata };
}
