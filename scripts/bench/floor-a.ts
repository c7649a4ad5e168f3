import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { type Summary, summarize } from './stats.js';

export interface FloorAOptions {
  certPem: string;
  spEntityId: string;
  acsUrl: string;
  wantResponseSigned: boolean;
}

export interface FloorAResult extends Summary {
  /** Validations per second of one thread, back to back. */
  perSecond: number;
}

/**
 * node-saml alone, in this one thread, configured as src/saml/validator.ts configures it for a
 * connection (one instance, certificates parsed once): the cost no jitprov sign-in can avoid unless
 * it moves the work off the event loop or shares it between cores.
 */
export async function floorA(
  opts: FloorAOptions,
  responses: readonly string[],
  warmup: number,
): Promise<FloorAResult> {
  const saml = new SAML({
    idpCert: [opts.certPem],
    issuer: opts.spEntityId,
    audience: opts.spEntityId,
    callbackUrl: opts.acsUrl,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: opts.wantResponseSigned,
    acceptedClockSkewMs: 60_000,
    validateInResponseTo: ValidateInResponseTo.never,
  });
  const validate = async (SAMLResponse: string) => {
    const { profile } = await saml.validatePostResponseAsync({ SAMLResponse });
    // What the validator reads next; a floor that skipped it would flatter node-saml.
    if (!profile?.getAssertionXml?.()) throw new Error('floor A: no assertion in a valid response');
  };
  for (const r of responses.slice(0, warmup)) await validate(r);
  const timed = responses.slice(warmup);
  const samples: number[] = [];
  const t0 = performance.now();
  for (const r of timed) {
    const t = performance.now();
    await validate(r);
    samples.push(performance.now() - t);
  }
  const elapsed = performance.now() - t0;
  return { ...summarize(samples), perSecond: (timed.length * 1000) / elapsed };
}
