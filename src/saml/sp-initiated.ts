import { randomBytes, sign } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { SAML } from '@node-saml/node-saml';
import type { Config } from '../config/config.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { AppError } from '../errors.js';
import type { RedirectPolicy } from './relay-state.js';
import type { SpKeyStore } from './sp-keys.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A connection's uuid from `?connection=`: the uuid itself or its Relay global id. */
export function connectionIdFrom(ref: string | null): string | null {
  if (!ref) return null;
  if (UUID.test(ref)) return ref.toLowerCase();
  const decoded = Buffer.from(ref, 'base64').toString('utf8');
  const match = /^IdpConnection:(.+)$/.exec(decoded);
  return match?.[1] && UUID.test(match[1]) ? match[1].toLowerCase() : null;
}

type Row = Record<string, unknown>;

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The HTTP-Redirect binding URL. The signature covers the exact query string sent: node-saml signs
 * querystring's encoding but sends URLSearchParams', which differ on ' ( ) ! ~, and browsers
 * re-encode ' in a query on their own. Encoding every one of them leaves nothing to re-encode, so
 * the IdP verifies the very bytes signed.
 */
function redirectUrl(
  entryPoint: string,
  samlRequest: string,
  relayState: string | null,
  signingKeyPem: string | null,
): string {
  let query = `SAMLRequest=${encode(samlRequest)}`;
  if (relayState) query += `&RelayState=${encode(relayState)}`;
  if (signingKeyPem) {
    query += `&SigAlg=${encode(RSA_SHA256)}`;
    const signature = sign('sha256', Buffer.from(query), signingKeyPem).toString('base64');
    query += `&Signature=${encode(signature)}`;
  }
  return `${entryPoint}${entryPoint.includes('?') ? '&' : '?'}${query}`;
}

/**
 * SP-initiated sign-in: `start` records an AuthnRequest id in PostgreSQL and returns the IdP URL
 * (HTTP-Redirect binding) carrying it; `consume` ties a verified assertion's InResponseTo to one
 * outstanding request of the same connection, exactly once, across processes.
 */
export function createSpInitiatedService(deps: {
  orm: MikroORM;
  config: Config;
  spKeys: SpKeyStore;
  redirects: RedirectPolicy;
}) {
  async function start(connectionRef: string | null, relayState: string | null): Promise<string> {
    const id = connectionIdFrom(connectionRef);
    const connection = id ? await deps.orm.em.fork().findOne(IdpConnection, { id }) : null;
    if (!connection) {
      throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['connection'] });
    }
    if (!connection.enabled) {
      throw new AppError('CONNECTION_DISABLED', `IdP connection "${connection.name}" is disabled`);
    }
    // Checked here too, so a bad target fails before the person types a password.
    deps.redirects.target(relayState);
    if (!connection.ssoRedirectUrl) {
      throw new AppError(
        'SAML_LOGIN_UNAVAILABLE',
        `IdP connection "${connection.name}" publishes no HTTP-Redirect SingleSignOnService`,
      );
    }
    const requestId = `_${randomBytes(20).toString('hex')}`;
    const saml = new SAML({
      entryPoint: connection.ssoRedirectUrl,
      issuer: deps.config.spEntityId,
      callbackUrl: deps.config.acsUrl,
      idpCert: connection.certificates.map((c) => c.pem),
      identifierFormat: connection.nameIdFormat ?? null,
      // node-saml would ask for PasswordProtectedTransport "exact", which refuses MFA and passkeys.
      disableRequestedAuthnContext: true,
      generateUniqueId: () => requestId,
    });
    // node-saml builds and deflates the request; the query string is ours (see redirectUrl).
    const built = new URL(await saml.getAuthorizeUrlAsync('', undefined, {}));
    const url = redirectUrl(
      connection.ssoRedirectUrl,
      built.searchParams.get('SAMLRequest') ?? '',
      relayState,
      connection.signAuthnRequests ? (await deps.spKeys.get()).signing.privateKeyPem : null,
    );
    // Expired requests are swept by the insert that adds one, so the table needs no timer.
    await deps.orm.em.fork().execute(
      `with swept as (delete from authn_request where expires_at < now())
       insert into authn_request (id, connection_id, expires_at)
       values (?, ?, now() + make_interval(secs => ?))`,
      [requestId, connection.id, deps.config.samlAuthnRequestTtlSeconds],
    );
    return url;
  }

  /**
   * Runs after the signature and every assertion check, before the sign-in transaction. An
   * unsolicited response needs IdP-initiated sign-in allowed; a solicited one must answer an
   * outstanding, unexpired request of this connection, which the atomic delete consumes so a
   * second response to it (replayed or racing, in any process) finds nothing. Consumed before the
   * transaction, a request stays used even if provisioning then fails: the person starts over
   * rather than the same response being accepted later.
   */
  async function consume(
    connection: Pick<IdpConnection, 'id' | 'idpInitiatedAllowed'>,
    inResponseTo: string | null,
  ): Promise<void> {
    if (inResponseTo === null) {
      if (!connection.idpInitiatedAllowed) {
        throw new AppError(
          'SAML_UNSOLICITED_RESPONSE',
          'SAML response rejected: unsolicited (no InResponseTo) and this connection allows only SP-initiated sign-in',
        );
      }
      return;
    }
    const rows = await deps.orm.em
      .fork()
      .execute<Row[]>(
        `delete from authn_request where id = ? and connection_id = ? and expires_at > now() returning id`,
        [inResponseTo, connection.id],
      );
    if (rows.length === 0) {
      throw new AppError(
        'SAML_IN_RESPONSE_TO_UNKNOWN',
        'SAML response rejected: InResponseTo matches no outstanding sign-in request of this connection',
      );
    }
  }

  return { start, consume };
}
export type SpInitiatedService = ReturnType<typeof createSpInitiatedService>;
