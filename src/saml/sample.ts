import { AppError } from '../errors.js';
import { readAttributes } from './assertion.js';
import { readIncomingResponse } from './incoming.js';
import { childElements, firstChild, NS, parseStrictXml, textOf } from './xml.js';

/** Largest captured response a preview reads. */
const MAX_SAMPLE_BYTES = 1024 * 1024;

/**
 * The NameID and attributes of a captured SAMLResponse, read as a sign-in would read them but
 * neither validated nor consumed: sample data for an admin's mapping preview. The same hygiene as
 * at the ACS (size, base64, DOCTYPE, well-formed) applies; an encrypted assertion cannot be read.
 */
export function readUnverifiedSample(base64: string): {
  nameId: string;
  attributes: Record<string, string[]>;
} {
  const incoming = readIncomingResponse(base64, MAX_SAMPLE_BYTES);
  const assertion = childElements(
    parseStrictXml(incoming.xml)!.documentElement!,
    NS.assertion,
    'Assertion',
  )[0];
  if (!assertion) {
    throw new AppError(
      'SAML_RESPONSE_MALFORMED',
      'the SAMLResponse has no readable (unencrypted) assertion',
      {
        path: ['input', 'samlResponse'],
      },
    );
  }
  const subject = firstChild(assertion, NS.assertion, 'Subject');
  const nameIdEl = subject && firstChild(subject, NS.assertion, 'NameID');
  return { nameId: nameIdEl ? textOf(nameIdEl).trim() : '', attributes: readAttributes(assertion) };
}
