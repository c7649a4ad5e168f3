import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config/config.js';
import { IdpConnection } from '../connections/connection.entity.js';
import { AppError } from '../errors.js';
import { buildAuthnRequest } from '../saml/authn-request.js';
import type { RedirectPolicy } from '../saml/relay-state.js';
import type { SpKeyStore } from '../saml/sp-keys.js';
import { AuthnRequest } from './authn-request.entity.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A connection's uuid from `?connection=`: the uuid itself or its Relay global id. */
export function connectionIdFrom(ref: string | null): string | null {
  if (!ref) return null;
  if (UUID.test(ref)) return ref.toLowerCase();
  const decoded = Buffer.from(ref, 'base64').toString('utf8');
  const match = /^IdpConnection:(.+)$/.exec(decoded);
  return match?.[1] && UUID.test(match[1]) ? match[1].toLowerCase() : null;
}

/**
 * SP-initiated sign-in: `start` records an AuthnRequest id in PostgreSQL and returns the IdP URL
 * (HTTP-Redirect binding) carrying it; `consume` ties a verified assertion's InResponseTo to one
 * outstanding request of the same connection, exactly once, across processes.
 */
export function createAuthnRequests(deps: {
  orm: MikroORM;
  config: Config;
  spKeys: SpKeyStore;
  redirects: RedirectPolicy;
}) {
  async function start(connectionRef: string | null, relayState: string | null): Promise<string> {
    const id = connectionIdFrom(connectionRef);
    const em = deps.orm.em.fork();
    const connection = id ? await em.findOne(IdpConnection, { id }) : null;
    if (!connection) {
      throw new AppError('NOT_FOUND', 'no IdP connection has that id', { path: ['connection'] });
    }
    if (!connection.enabled) {
      throw new AppError('CONNECTION_DISABLED', `IdP connection "${connection.name}" is disabled`);
    }
    // Checked here too, so a bad target fails before the person types a password.
    deps.redirects.target(relayState);
    const { ssoRedirectUrl } = connection;
    if (!ssoRedirectUrl) {
      throw new AppError(
        'SAML_LOGIN_UNAVAILABLE',
        `IdP connection "${connection.name}" publishes no HTTP-Redirect SingleSignOnService`,
      );
    }
    const { requestId, url } = await buildAuthnRequest({
      target: {
        ssoRedirectUrl,
        certificates: connection.certificates,
        nameIdFormat: connection.nameIdFormat,
      },
      spEntityId: deps.config.spEntityId,
      acsUrl: deps.config.acsUrl,
      relayState,
      signingKeyPem: connection.signAuthnRequests ? (await deps.spKeys.get()).signing.privateKeyPem : null,
    });
    // Expired requests are swept when one is added, so the table needs no timer.
    await em.nativeDelete(AuthnRequest, { expiresAt: { $lt: new Date() } });
    await em.insert(AuthnRequest, {
      id: requestId,
      connection: connection.id,
      expiresAt: new Date(Date.now() + deps.config.samlAuthnRequestTtlSeconds * 1000),
    });
    return url;
  }

  /**
   * Runs after the signature and every assertion check, before the provisioning transaction. An
   * unsolicited response needs IdP-initiated sign-in allowed; a solicited one must answer an
   * outstanding, unexpired request of this connection, which the atomic update marks answered by
   * `assertionId`, so that a second response to it (replayed or racing, in any process) finds
   * nothing. Consumed before the transaction, a request stays used even if provisioning then fails:
   * the person starts over rather than the same response being accepted later — except by the same
   * sign-in retrying after its database connection was lost (`ownRetry`), whose mark may have
   * committed unanswered: it finds its own mark and goes on.
   */
  async function consume(
    connection: Pick<IdpConnection, 'id' | 'idpInitiatedAllowed'>,
    inResponseTo: string | null,
    assertionId: string,
    ownRetry = false,
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
    const consumed = await deps.orm.em.fork().nativeUpdate(
      AuthnRequest,
      {
        id: inResponseTo,
        connection: connection.id,
        expiresAt: { $gt: new Date() },
        $or: [{ consumedBy: null }, ...(ownRetry ? [{ consumedBy: assertionId }] : [])],
      },
      { consumedBy: assertionId },
    );
    if (consumed === 0) {
      throw new AppError(
        'SAML_IN_RESPONSE_TO_UNKNOWN',
        'SAML response rejected: InResponseTo matches no outstanding sign-in request of this connection',
      );
    }
  }

  return { start, consume };
}
export type AuthnRequests = ReturnType<typeof createAuthnRequests>;
