import { AppError } from '../errors.js';
import { childElements, firstChild, hasDoctype, NS, parseStrictXml, textOf } from './xml.js';

/** A SAMLResponse form value, decoded and read just far enough to route it to a connection. */
export interface IncomingResponse {
  /** The decoded XML, to hand to signature validation. */
  xml: string;
  /** The base64 text as received (node-saml takes this form). */
  base64: string;
  /** Untrusted: used only to pick the connection whose keys must then verify the signature. */
  claimedIssuer: string;
  /** Response@Destination, if present (checked after the signature is verified). */
  destination: string | null;
  /** Top-level StatusCode value. */
  status: string | null;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

/**
 * Input hygiene before any XML signature work: size cap on the encoded form, strict base64, no
 * DOCTYPE, well-formed XML with a samlp:Response root and an Issuer. Each failure is a clean 4xx.
 */
export function readIncomingResponse(base64: unknown, maxBytes: number): IncomingResponse {
  if (typeof base64 !== 'string' || base64.trim() === '') {
    throw new AppError('SAML_RESPONSE_MALFORMED', 'SAMLResponse is missing', { path: ['SAMLResponse'] });
  }
  if (base64.length > Math.ceil((maxBytes * 4) / 3) + 8) {
    throw new AppError('SAML_RESPONSE_TOO_LARGE', `SAMLResponse is larger than ${maxBytes} bytes`, {
      path: ['SAMLResponse'],
      maxBytes,
    });
  }
  const compact = base64.trim();
  if (!BASE64.test(compact)) {
    throw new AppError('SAML_RESPONSE_MALFORMED', 'SAMLResponse is not valid base64', {
      path: ['SAMLResponse'],
    });
  }
  const xml = Buffer.from(compact, 'base64').toString('utf8');
  if (!xml.trimStart().startsWith('<')) {
    throw new AppError(
      'SAML_RESPONSE_MALFORMED',
      'SAMLResponse does not decode to XML (deflated or binary?)',
      {
        path: ['SAMLResponse'],
      },
    );
  }
  if (hasDoctype(xml)) {
    throw new AppError('SAML_DOCTYPE_FORBIDDEN', 'SAMLResponse contains a DOCTYPE, which is never allowed', {
      path: ['SAMLResponse'],
    });
  }
  const doc = parseStrictXml(xml);
  const root = doc?.documentElement;
  if (!root) {
    throw new AppError('SAML_RESPONSE_MALFORMED', 'SAMLResponse is not well-formed XML', {
      path: ['SAMLResponse'],
    });
  }
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') {
    throw new AppError('SAML_RESPONSE_MALFORMED', 'SAMLResponse root element is not samlp:Response', {
      path: ['SAMLResponse'],
    });
  }
  const issuerEl =
    firstChild(root, NS.assertion, 'Issuer') ??
    childElements(root, NS.assertion, 'Assertion')
      .map((a) => firstChild(a, NS.assertion, 'Issuer'))
      .find((i) => i !== undefined);
  const claimedIssuer = issuerEl ? textOf(issuerEl).trim() : '';
  if (!claimedIssuer) {
    throw new AppError('SAML_RESPONSE_MALFORMED', 'SAMLResponse has no Issuer', { path: ['SAMLResponse'] });
  }
  const statusEl = firstChild(root, NS.protocol, 'Status');
  const codeEl = statusEl && firstChild(statusEl, NS.protocol, 'StatusCode');
  return {
    xml,
    base64: compact,
    claimedIssuer,
    destination: root.getAttribute('Destination') || null,
    status: codeEl?.getAttribute('Value') ?? null,
  };
}
