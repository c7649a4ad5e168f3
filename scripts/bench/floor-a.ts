import { X509Certificate } from 'node:crypto';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { readIncomingResponse } from '../../src/saml/incoming.js';
import { createSamlValidator } from '../../src/saml/validator.js';
import { type Summary, summarize } from './stats.js';

export interface FloorAOptions {
  certPem: string;
  /** The IdP entity id the responses carry as Issuer. */
  issuer: string;
  spEntityId: string;
  acsUrl: string;
  wantResponseSigned: boolean;
}

export interface FloorAResult extends Summary {
  /** Validations per second of one thread, back to back. */
  perSecond: number;
}

/** The server's default SAML_MAX_RESPONSE_BYTES. */
const MAX_RESPONSE_BYTES = 256 * 1024;

type Validate = (samlResponse: string) => Promise<void>;

/**
 * Several validators timed on the same responses, back to back within a batch of 25, batches
 * interleaved in alternating order: JIT warm-up, GC state and whatever else shares the machine then
 * weigh on each alike, so their ratio holds even where their absolute speed drifts.
 */
async function interleaved(
  responses: readonly string[],
  warmup: number,
  validators: Validate[],
): Promise<FloorAResult[]> {
  for (const validate of validators) for (const r of responses.slice(0, warmup)) await validate(r);
  const timed = responses.slice(warmup);
  const samples = validators.map((): number[] => []);
  const busyMs = validators.map(() => 0);
  const BATCH = 25;
  for (let start = 0, round = 0; start < timed.length; start += BATCH, round++) {
    const batch = timed.slice(start, start + BATCH);
    const order = validators.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const validate = validators[i] as Validate;
      const t0 = performance.now();
      for (const r of batch) {
        const t = performance.now();
        await validate(r);
        samples[i]?.push(performance.now() - t);
      }
      busyMs[i] = (busyMs[i] ?? 0) + performance.now() - t0;
    }
  }
  return validators.map((_, i) => ({
    ...summarize(samples[i] ?? []),
    perSecond: (timed.length * 1000) / (busyMs[i] ?? Number.NaN),
  }));
}

/**
 * node-saml alone, in this one thread, configured as src/saml/validator.ts configures it for a
 * connection (one instance, certificates parsed once): the cost no jitprov sign-in can avoid unless
 * it moves the work off the event loop or shares it between cores.
 */
function nodeSamlAlone(o: FloorAOptions): Validate {
  const saml = new SAML({
    idpCert: [o.certPem],
    issuer: o.spEntityId,
    audience: o.spEntityId,
    callbackUrl: o.acsUrl,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: o.wantResponseSigned,
    acceptedClockSkewMs: 60_000,
    validateInResponseTo: ValidateInResponseTo.never,
  });
  return async (SAMLResponse) => {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse });
    // What the validator reads next; a floor that skipped it would flatter node-saml.
    if (!profile?.getAssertionXml?.()) throw new Error('floor A: no assertion in a valid response');
  };
}

/**
 * jitprov's whole validation (response hygiene, structural guards, node-saml, the verified read)
 * in this one thread, on the same responses: its distance from Floor A is the cost of jitprov's own
 * checks, the part "no work done twice" can shrink.
 */
function jitprovValidator(o: FloorAOptions): Validate {
  const x509 = new X509Certificate(o.certPem);
  // The bench sends no encrypted assertions: no decryption key.
  const validator = createSamlValidator({ spEntityId: o.spEntityId, acsUrl: o.acsUrl });
  const connection = {
    id: 'bench',
    entityId: o.issuer,
    certificates: [
      {
        pem: o.certPem,
        subject: x509.subject,
        notBefore: new Date(x509.validFrom).toISOString(),
        notAfter: new Date(x509.validTo).toISOString(),
        fingerprintSha256: x509.fingerprint256,
      },
    ],
    wantResponseSigned: o.wantResponseSigned,
    clockSkewSeconds: 60,
    nameIdFormat: null,
    allowSha1: false,
  };
  return async (samlResponse) => {
    await validator.validate(connection, readIncomingResponse(samlResponse, MAX_RESPONSE_BYTES));
  };
}

/** Floor A and jitprov's validator, one thread each in turn, on the same responses. */
export async function validationFloors(
  o: FloorAOptions,
  responses: readonly string[],
  warmup: number,
): Promise<{ floor: FloorAResult; jitprov: FloorAResult }> {
  const [floor, jitprov] = await interleaved(responses, warmup, [nodeSamlAlone(o), jitprovValidator(o)]);
  return { floor: floor as FloorAResult, jitprov: jitprov as FloorAResult };
}
