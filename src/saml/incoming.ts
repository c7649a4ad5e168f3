import { inflateRawSync, constants as zlib } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { AppError, type ErrorCode } from '../errors.js';
import { childElements, firstChild, hasDoctype, NS, textOf } from './xml.js';

/** A SAMLResponse form value, decoded and read just far enough to route it to a connection. */
export interface IncomingResponse {
  /** The decoded XML, to hand to signature validation. */
  xml: string;
  /** The base64 text as received. */
  base64: string;
  /** The parsed document: untrusted, read only to refuse what is malformed or wrapped. */
  doc: Document;
  /** Untrusted: used only to pick the connection whose keys must then verify the signature. */
  claimedIssuer: string;
  /** Response@Destination, if present (checked after the signature is verified). */
  destination: string | null;
  /** Response@InResponseTo, if present: unsigned unless the Response is, so only compared, never trusted. */
  inResponseTo: string | null;
  /** Top-level StatusCode value. */
  status: string | null;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

const refuse = (code: ErrorCode, message: string): AppError =>
  new AppError(code, message, { path: ['SAMLResponse'] });

/**
 * Input hygiene before any XML signature work: size cap on the encoded form, strict base64, no
 * DEFLATE (the Redirect binding's encoding has no business on the POST binding), no DOCTYPE,
 * well-formed XML with a samlp:Response root, nothing after it, and an Issuer. Each failure is a
 * clean 4xx with its own code, decided in time linear in the (capped) input.
 */
export function readIncomingResponse(base64: unknown, maxBytes: number): IncomingResponse {
  if (typeof base64 !== 'string' || base64.trim() === '') {
    throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse is missing');
  }
  // Checked on the encoded length, before anything is decoded or copied.
  if (base64.length > Math.ceil((maxBytes * 4) / 3) + 8) {
    throw new AppError('SAML_RESPONSE_TOO_LARGE', `SAMLResponse is larger than ${maxBytes} bytes`, {
      path: ['SAMLResponse'],
      maxBytes,
    });
  }
  const compact = base64.trim();
  // Buffer.from would skip characters outside the alphabet and decode whatever is left.
  if (!BASE64.test(compact) || compact.replace(/[\r\n]/g, '').length % 4 !== 0) {
    throw refuse('SAML_RESPONSE_NOT_BASE64', 'SAMLResponse is not valid base64');
  }
  const bytes = Buffer.from(compact, 'base64');
  const xml = bytes.toString('utf8');
  if (
    !xml
      .replace(/^\uFEFF/, '')
      .trimStart()
      .startsWith('<')
  ) {
    if (looksDeflated(bytes)) {
      throw refuse(
        'SAML_RESPONSE_DEFLATED',
        'SAMLResponse is DEFLATE-compressed; the POST binding sends plain XML',
      );
    }
    throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse does not decode to XML');
  }
  // On the raw text, so no DTD (external entities, entity expansion) ever reaches the parser.
  if (hasDoctype(xml)) {
    throw new AppError('SAML_DOCTYPE_FORBIDDEN', 'SAMLResponse contains a DOCTYPE, which is never allowed', {
      path: ['SAMLResponse'],
    });
  }
  checkOutline(xml);
  const doc = parseResponseDocument(xml);
  const root = doc.documentElement;
  if (!root || root.namespaceURI !== NS.protocol || root.localName !== 'Response') {
    throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse root element is not samlp:Response');
  }
  const issuerEl =
    firstChild(root, NS.assertion, 'Issuer') ??
    childElements(root, NS.assertion, 'Assertion')
      .map((a) => firstChild(a, NS.assertion, 'Issuer'))
      .find((i) => i !== undefined);
  const claimedIssuer = issuerEl ? textOf(issuerEl).trim() : '';
  if (!claimedIssuer) throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse has no Issuer');
  const statusEl = firstChild(root, NS.protocol, 'Status');
  const codeEl = statusEl && firstChild(statusEl, NS.protocol, 'StatusCode');
  return {
    xml,
    base64: compact,
    doc,
    claimedIssuer,
    destination: root.getAttribute('Destination') || null,
    inResponseTo: root.getAttribute('InResponseTo') || null,
    status: codeEl?.getAttribute('Value') ?? null,
  };
}

/**
 * Inflates at most the first 512 bytes (bounded output: no zip bomb) and looks for XML. Only used to
 * name the mistake precisely; anything else that is not XML is simply malformed.
 */
function looksDeflated(bytes: Buffer): boolean {
  try {
    const head = inflateRawSync(bytes.subarray(0, 512), {
      finishFlush: zlib.Z_SYNC_FLUSH,
      maxOutputLength: 1024 * 1024,
    });
    return head.toString('utf8').trimStart().startsWith('<');
  } catch {
    return false;
  }
}

// A SAML response nests about ten deep (an encrypted one a little more); xmldom's cost grows with
// depth faster than with size, so absurd nesting is refused before it reaches the parser.
const MAX_DEPTH = 64;

/**
 * One linear pass over the text, before parsing: element depth, and anything after the root element
 * closes. xmldom keeps trailing text silently and reports a second root only as a generic error, so
 * trailing content is found here, with its own code. Each character is looked at a bounded number
 * of times (no backtracking), whatever the input.
 */
function checkOutline(xml: string): void {
  let depth = 0;
  let rootClosed = false;
  let i = 0;
  const trailing = () =>
    refuse('SAML_RESPONSE_TRAILING_CONTENT', 'SAMLResponse has content after its root element');
  const malformed = () => refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse is not well-formed XML');
  for (;;) {
    const lt = xml.indexOf('<', i);
    if (rootClosed && xml.slice(i, lt === -1 ? undefined : lt).trim() !== '') throw trailing();
    if (lt === -1) return;
    const skip = (open: string, close: string): boolean => {
      if (!xml.startsWith(open, lt)) return false;
      const end = xml.indexOf(close, lt + open.length);
      if (end === -1) throw malformed();
      // Comments and processing instructions are legal after the root, but no IdP sends them.
      if (rootClosed) throw trailing();
      i = end + close.length;
      return true;
    };
    if (skip('<!--', '-->') || skip('<![CDATA[', ']]>') || skip('<?', '?>')) continue;
    if (rootClosed) throw trailing();
    let j = lt + 1;
    let quote = '';
    for (; j < xml.length; j++) {
      const c = xml[j];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
    }
    if (j >= xml.length) throw malformed();
    if (xml[lt + 1] === '/') depth--;
    else if (xml[j - 1] !== '/') depth++;
    if (depth < 0) throw malformed();
    if (depth > MAX_DEPTH)
      throw refuse('SAML_RESPONSE_MALFORMED', `SAMLResponse nests deeper than ${MAX_DEPTH} elements`);
    if (depth === 0) rootClosed = true;
    i = j + 1;
  }
}

/** Parses strictly: every xmldom warning or error is a failure, never a silently repaired document. */
function parseResponseDocument(xml: string): Document {
  let failed = false;
  const fail = () => {
    failed = true;
  };
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: {},
      errorHandler: { warning: fail, error: fail, fatalError: fail },
    }).parseFromString(xml, 'text/xml');
  } catch {
    throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse is not well-formed XML');
  }
  if (failed || !doc.documentElement)
    throw refuse('SAML_RESPONSE_MALFORMED', 'SAMLResponse is not well-formed XML');
  return doc;
}

// The first Issuer in document order: the Response's, or else the first assertion's.
const FIRST_ISSUER = /<(?:[A-Za-z_][\w.-]*:)?Issuer\b[^>]*>\s*([^<]+?)\s*<\/(?:[A-Za-z_][\w.-]*:)?Issuer\s*>/;

/**
 * The Issuer a response claims, found by a text search instead of a parse, to route it to its
 * connection when a worker will parse and check it anyway; and whether it carries an encrypted
 * assertion (the worker then needs the SP's decryption key). Untrusted like `claimedIssuer`: only
 * that connection's keys can then verify the response, and its Issuer is checked after. null when
 * the input does not look right: the caller then parses it here for the precise refusal.
 */
export function sniffIssuer(
  base64: unknown,
  maxBytes: number,
): { issuer: string; encrypted: boolean } | null {
  if (typeof base64 !== 'string' || base64.length > Math.ceil((maxBytes * 4) / 3) + 8) return null;
  const compact = base64.trim();
  if (compact === '' || !BASE64.test(compact)) return null;
  const bytes = Buffer.from(compact, 'base64');
  const match = FIRST_ISSUER.exec(bytes.subarray(0, 64 * 1024).toString('utf8'));
  const issuer = match?.[1];
  if (!issuer || issuer.includes('&')) return null;
  return { issuer, encrypted: bytes.includes('EncryptedAssertion') };
}
