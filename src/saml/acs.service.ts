import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { asAppError } from '../db/errors.js';
import { AppError } from '../errors.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import type { SignInResult, SignInService, SignInVia } from '../provisioning/sign-in.service.js';
import { IdpConnection } from './connection.entity.js';
import { type IncomingResponse, readIncomingResponse, sniffIssuer } from './incoming.js';
import type { RedirectPolicy } from './relay-state.js';
import type { SpInitiatedService } from './sp-initiated.js';
import type { SamlValidator, ValidatedAssertion } from './validator.js';

export interface AcsRequest {
  samlResponse: unknown;
  relayState?: string | null;
  via: SignInVia;
}

export interface AcsResult extends SignInResult {
  connectionId: string;
  username: string;
  /** Where the browser goes next: the RelayState, checked against the allowed origins. */
  redirectTo: string | null;
}

/**
 * The one road from a SAMLResponse to a provisioned, signed-in user, shared by the HTTP-POST ACS
 * route and the `samlAcs` mutation. Every refusal is audited (outside the rolled-back transaction)
 * and surfaces as an AppError with a stable code.
 */
export function createAcsService(deps: {
  orm: MikroORM;
  validator: SamlValidator;
  signIn: SignInService;
  maxResponseBytes: number;
  redirects: RedirectPolicy;
  spInitiated: SpInitiatedService;
  logger: Logger;
}) {
  async function handle(req: AcsRequest): Promise<AcsResult> {
    let connection: IdpConnection | null = null;
    let issuer: string | null = null;
    let assertion: ValidatedAssertion | null = null;
    try {
      const em = deps.orm.em.fork();
      // With a validator that parses in its worker, the main thread only finds the Issuer to route
      // by; anything unusual takes the full parse here, which gives the precise refusal.
      let incoming: IncomingResponse | null = null;
      const sniffed = deps.validator.validateEncoded
        ? sniffIssuer(req.samlResponse, deps.maxResponseBytes)
        : null;
      connection = sniffed ? await em.findOne(IdpConnection, { entityId: sniffed }) : null;
      if (connection) issuer = sniffed;
      else {
        incoming = readIncomingResponse(req.samlResponse, deps.maxResponseBytes);
        issuer = incoming.claimedIssuer;
        connection = await em.findOne(IdpConnection, { entityId: incoming.claimedIssuer });
      }
      if (!connection) {
        throw new AppError(
          'SAML_UNKNOWN_ISSUER',
          'no IdP connection has the entity id of the response issuer',
          {
            issuer,
          },
        );
      }
      if (!connection.enabled) {
        throw new AppError('CONNECTION_DISABLED', `IdP connection "${connection.name}" is disabled`, {});
      }
      // Before any signature work: an attacker-chosen target refuses the whole sign-in, audited.
      const redirectTo = deps.redirects.target(req.relayState);
      // `incoming` is only left unparsed when the validator takes encoded responses itself.
      assertion = incoming
        ? await deps.validator.validate(connection, incoming)
        : await deps.validator.validateEncoded!(connection, String(req.samlResponse));
      await deps.spInitiated.consume(connection, assertion.inResponseTo);
      const rules = await em.find(
        AttributeMapping,
        { connection: connection.id },
        { orderBy: { position: 'asc' } },
      );
      const result = await deps.signIn.signIn(connection, rules, assertion, req.via);
      return { ...result, connectionId: connection.id, username: assertion.nameId, redirectTo };
    } catch (e) {
      const error = asAppError(e);
      if (error.code === 'INTERNAL') deps.logger.error({ err: e }, 'sign-in failed unexpectedly');
      await deps.signIn
        .recordRejection({
          connectionId: connection?.id ?? null,
          issuer: assertion?.issuer ?? issuer,
          nameId: assertion?.nameId ?? null,
          assertionId: assertion?.assertionId ?? null,
          via: req.via,
          error,
        })
        .catch((auditError: unknown) =>
          deps.logger.error({ err: auditError, code: error.code }, 'could not record the refused sign-in'),
        );
      throw error;
    }
  }
  return { handle };
}
export type AcsService = ReturnType<typeof createAcsService>;
