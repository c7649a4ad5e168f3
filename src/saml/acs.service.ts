import type { Logger } from 'pino';
import { AppError, asAppError } from '../errors.js';
import {
  type SignInResult,
  type SignInService,
  type SignInVia,
  StaleConfiguration,
} from '../provisioning/sign-in.service.js';
import type { ConnectionCache, ConnectionConfig } from './connection-cache.js';
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
  timings: SignInResult['timings'] & { validationMs: number };
}

const unknownIssuer = (issuer: string | null): AppError =>
  new AppError('SAML_UNKNOWN_ISSUER', 'no IdP connection has the entity id of the response issuer', {
    issuer,
  });

/**
 * The one road from a SAMLResponse to a provisioned, signed-in user, shared by the HTTP-POST ACS
 * route and the `samlAcs` mutation. Every refusal is audited (outside the rolled-back transaction)
 * and surfaces as an AppError with a stable code.
 */
export function createAcsService(deps: {
  validator: SamlValidator;
  signIn: SignInService;
  maxResponseBytes: number;
  redirects: RedirectPolicy;
  spInitiated: SpInitiatedService;
  connections: ConnectionCache;
  logger: Logger;
}) {
  async function handle(req: AcsRequest): Promise<AcsResult> {
    let config: ConnectionConfig | null = null;
    let issuer: string | null = null;
    let assertion: ValidatedAssertion | null = null;
    try {
      // With a validator that parses in its worker, the main thread only finds the Issuer to route
      // by; anything unusual takes the full parse here, which gives the precise refusal.
      let incoming: IncomingResponse | null = null;
      const sniffed = deps.validator.validateEncoded
        ? sniffIssuer(req.samlResponse, deps.maxResponseBytes)
        : null;
      config = sniffed ? await deps.connections.get(sniffed) : null;
      if (config) issuer = sniffed;
      else {
        incoming = readIncomingResponse(req.samlResponse, deps.maxResponseBytes);
        issuer = incoming.claimedIssuer;
        config = await deps.connections.get(incoming.claimedIssuer);
      }
      if (!config) throw unknownIssuer(issuer);
      // Before any signature work: an attacker-chosen target refuses the whole sign-in, audited.
      const redirectTo = deps.redirects.target(req.relayState);
      let requestConsumed = false;
      // The configuration may come from memory: the transaction checks its version, and a refusal
      // it caused is confirmed against the database first. Either way, one fresh start at most.
      for (let fresh = !config.cached; ; fresh = true) {
        const { connection, rules } = config;
        try {
          if (!connection.enabled) {
            throw new AppError('CONNECTION_DISABLED', `IdP connection "${connection.name}" is disabled`, {});
          }
          // `incoming` is only left unparsed when the validator takes encoded responses itself.
          const validating = performance.now();
          assertion = incoming
            ? await deps.validator.validate(connection, incoming)
            : await deps.validator.validateEncoded!(connection, String(req.samlResponse));
          const validationMs = performance.now() - validating;
          // An AuthnRequest is consumed once; without one, the connection's IdP-initiated setting
          // is what is checked, so that check runs again on a fresh configuration.
          if (!requestConsumed || assertion.inResponseTo === null) {
            await deps.spInitiated.consume(connection, assertion.inResponseTo);
            requestConsumed = true;
          }
          const result = await deps.signIn.signIn(connection, rules, assertion, req.via);
          return {
            ...result,
            connectionId: connection.id,
            username: assertion.nameId,
            redirectTo,
            timings: { ...result.timings, validationMs },
          };
        } catch (e) {
          const stale =
            !fresh &&
            (e instanceof StaleConfiguration ||
              (e instanceof AppError &&
                e.code !== 'SAML_REPLAY' &&
                !(await deps.connections.isCurrent(config))));
          if (!stale) throw e;
          config = await deps.connections.reload(connection.entityId);
          if (!config) throw unknownIssuer(issuer);
          assertion = null;
        }
      }
    } catch (e) {
      const error = asAppError(e instanceof StaleConfiguration ? new AppError('CONFLICT', e.message) : e);
      if (error.code === 'INTERNAL') deps.logger.error({ err: e }, 'sign-in failed unexpectedly');
      // (Reset inside the loop, which control-flow analysis does not follow into this handler.)
      const refused = assertion as ValidatedAssertion | null;
      await deps.signIn
        .recordRejection({
          connectionId: config?.connection.id ?? null,
          issuer: refused?.issuer ?? issuer,
          nameId: refused?.nameId ?? null,
          assertionId: refused?.assertionId ?? null,
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
