import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { AppError, asAppError } from '../errors.js';
import { currentRequestId } from '../http/request-context.js';
import { type SignInRecorder, silentRecorder } from '../metrics/recorder.js';
import { inSpan, pastSpan } from '../metrics/tracing.js';
import type { ConnectionConfig } from '../provisioning/configuration.js';
import type { Identified, Via } from '../provisioning/identity.js';
import type { Provisioning, ProvisionResult, Road } from '../provisioning/provision.js';
import { readIncomingResponse, sniffIssuer } from '../saml/incoming.js';
import type { RedirectPolicy } from '../saml/relay-state.js';
import type { SpKeyStore } from '../saml/sp-keys.js';
import type { Workers } from '../workers/workers.js';
import type { AuthnRequests } from './authn-requests.js';

/** Entra's group overage claim: sent instead of the groups claim when a person has too many. */
export const GROUP_OVERAGE_CLAIM = 'http://schemas.microsoft.com/claims/groups.link';

export interface SignInRequest {
  samlResponse: unknown;
  relayState?: string | null;
  via: Via;
}

export interface SignInResult extends ProvisionResult {
  session: NonNullable<ProvisionResult['session']>;
  /** Where the browser goes next: the RelayState, checked against the allowed origins. */
  redirectTo: string | null;
}

const unknownIssuer = (issuer: string | null): AppError =>
  new AppError('SAML_UNKNOWN_ISSUER', 'no IdP connection has the entity id of the response issuer', {
    issuer,
  });

/**
 * The SAML road into the provisioning core, shared by the HTTP-POST ACS route and the `samlAcs`
 * mutation: find the connection by the response's Issuer, check the RelayState, then let the core
 * provision with a road whose `identify` validates the response in a worker (with the mappings'
 * transforms in the same job) and consumes the AuthnRequest it answers. Refusals before the core
 * takes over are audited here; the core audits its own.
 */
export function createSignInFlow(deps: {
  config: Config;
  workers: Workers;
  provisioning: Provisioning;
  redirects: RedirectPolicy;
  authnRequests: AuthnRequests;
  spKeys: SpKeyStore;
  logger: Logger;
  /** Where each sign-in's outcome and stage times are reported (the metrics). */
  recorder?: SignInRecorder;
}) {
  const { config } = deps;
  const recorder = deps.recorder ?? silentRecorder;
  const maxResponseBytes = config.samlMaxResponseBytes;
  const sp = { spEntityId: config.spEntityId, acsUrl: config.acsUrl };

  /** One sign-in, its outcome and stages reported to the recorder. */
  async function handle(req: SignInRequest): Promise<SignInResult> {
    const requestId = currentRequestId();
    return inSpan(
      'jitprov.acs',
      { 'jitprov.via': req.via, ...(requestId ? { 'jitprov.request_id': requestId } : {}) },
      async (span) => {
        const result = await measured(req);
        span.setAttributes({
          'jitprov.outcome': result.created ? 'created' : 'signed_in',
          'jitprov.connection_id': result.connectionId,
          'jitprov.user_id': result.userId,
        });
        return result;
      },
    );
  }

  async function measured(req: SignInRequest): Promise<SignInResult> {
    const started = performance.now();
    try {
      const result = await run(req);
      const t = result.timings;
      recorder.signIn({
        via: req.via,
        outcome: result.created ? 'created' : 'signed_in',
        stages: { validationMs: t.identifyMs, transformsMs: t.transformsMs, dbMs: t.databaseMs },
        totalMs: performance.now() - started,
      });
      return result;
    } catch (e) {
      recorder.signIn({
        via: req.via,
        outcome: 'refused',
        code: asAppError(e).code,
        totalMs: performance.now() - started,
      });
      throw e;
    }
  }

  async function run(req: SignInRequest): Promise<SignInResult> {
    let issuer: string | null = null;
    let encrypted = false;
    let start: ConnectionConfig | null = null;
    let redirectTo: string | null;
    try {
      // The main thread only finds the Issuer to route by; anything unusual takes the full read
      // here, which gives the precise refusal.
      const sniffed = sniffIssuer(req.samlResponse, maxResponseBytes);
      start = sniffed ? await deps.provisioning.configurations.byEntityId(sniffed.issuer) : null;
      if (sniffed && start) ({ issuer, encrypted } = sniffed);
      else {
        const incoming = readIncomingResponse(req.samlResponse, maxResponseBytes);
        issuer = incoming.claimedIssuer;
        encrypted = incoming.xml.includes('EncryptedAssertion');
        start = await deps.provisioning.configurations.byEntityId(issuer);
      }
      if (!start) throw unknownIssuer(issuer);
      // Before any signature work: an attacker-chosen target refuses the whole sign-in, audited.
      redirectTo = deps.redirects.target(req.relayState);
    } catch (e) {
      const error = asAppError(e);
      if (error.code === 'INTERNAL') deps.logger.error({ err: e }, 'sign-in failed unexpectedly');
      await deps.provisioning
        .recordRefusal({
          connectionId: start?.connection.id ?? null,
          subject: { issuer, nameId: null, credentialId: null },
          via: req.via,
          error,
        })
        .catch((auditError: unknown) =>
          deps.logger.error({ err: auditError, code: error.code }, 'could not record the refused sign-in'),
        );
      throw error;
    }

    const base64 = String(req.samlResponse);
    let requestConsumed = false;
    const road: Road = {
      via: req.via,
      session: true,
      subject: { issuer, nameId: null, credentialId: null },
      async identify({ connection, transforms }, attempt): Promise<Identified> {
        const started = performance.now();
        const decryptionKey = encrypted ? (await deps.spKeys.get()).decryption.privateKeyPem : null;
        const {
          assertion: a,
          transforms: results,
          timings,
        } = await inSpan('jitprov.validation', { 'jitprov.connection_id': connection.id }, () =>
          deps.workers.validate({
            base64,
            maxResponseBytes,
            // Plain data: entities do not cross threads.
            trust: {
              id: connection.id,
              entityId: connection.entityId,
              certificates: connection.certificates.map(({ pem, fingerprintSha256 }) => ({
                pem,
                fingerprintSha256,
              })),
              wantResponseSigned: connection.wantResponseSigned,
              clockSkewSeconds: connection.clockSkewSeconds,
              nameIdFormat: connection.nameIdFormat ?? null,
              allowSha1: connection.allowSha1,
            },
            sp,
            ...(decryptionKey ? { decryptionKey } : {}),
            transforms,
          }),
        );
        // The mappings' transforms ran in the same worker job, right after the validation.
        if (timings.transformsMs > 0) {
          const end = performance.timeOrigin + performance.now();
          pastSpan('jitprov.transforms', end - timings.transformsMs, end, { 'jitprov.in_worker': true });
        }
        // An AuthnRequest is consumed once; without one, the connection's IdP-initiated setting is
        // what is checked, so that check runs again on a fresh configuration.
        if (!requestConsumed || a.inResponseTo === null) {
          await deps.authnRequests.consume(
            connection,
            a.inResponseTo,
            a.assertionId,
            attempt?.connectionLost,
          );
          requestConsumed = true;
        }
        return {
          identity: {
            username: a.nameId,
            attributes: a.attributes,
            // Over 150 groups Entra sends a link to fetch them instead of the groups: unknown.
            groups: Object.hasOwn(a.attributes, GROUP_OVERAGE_CLAIM)
              ? null
              : (a.attributes[connection.groupsAttribute] ?? []),
          },
          subject: { issuer: a.issuer, nameId: a.nameId, credentialId: a.assertionId },
          credential: {
            issuer: a.issuer,
            id: a.assertionId,
            expiresAt: a.notOnOrAfter,
            replayed: () =>
              new AppError('SAML_REPLAY', 'this assertion has already been used', {
                assertionId: a.assertionId,
              }),
          },
          ...(results ? { transforms: results } : {}),
          timings: { identifyMs: performance.now() - started, transformsMs: timings.transformsMs },
        };
      },
    };
    const result = await deps.provisioning.provision(start, road);
    if (!result.session) throw new AppError('INTERNAL', 'internal error');
    return { ...result, session: result.session, redirectTo };
  }

  return { handle };
}
export type SignInFlow = ReturnType<typeof createSignInFlow>;
