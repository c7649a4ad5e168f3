import { X509Certificate } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { AppError } from '../errors.js';

export interface IdpSigningCertificate {
  pem: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  fingerprintSha256: string;
}

export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService with the HTTP-Redirect binding. */
  ssoRedirectUrl: string | null;
  /** SingleSignOnService with the HTTP-POST binding. */
  ssoPostUrl: string | null;
  /** SingleLogoutService, HTTP-Redirect preferred over HTTP-POST. */
  sloUrl: string | null;
  /** Deduplicated by fingerprint, in document order. */
  signingCertificates: IdpSigningCertificate[];
  nameIdFormats: string[];
  wantAuthnRequestsSigned: boolean;
}

export const MAX_METADATA_BYTES = 1024 * 1024;

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
// SAML core caps entityID at 1024 characters; longer values are junk, not identifiers.
const MAX_ENTITY_ID_LENGTH = 1024;
const MAX_LISTED_ENTITY_IDS = 10;

const invalid = (message: string, details: Record<string, unknown> = {}, cause?: unknown): AppError =>
  new AppError('METADATA_INVALID', message, details, cause === undefined ? undefined : { cause });

/**
 * Reads IdP federation metadata an admin pasted. Nothing here is trusted yet: the document's own
 * signature is not checked (the admin vouches for it by pasting it), so the output is only what the
 * admin is about to confirm, and every URL and certificate is validated before it is returned.
 */
export function parseIdpMetadata(xml: string, opts: { entityId?: string } = {}): IdpMetadata {
  const root = parseDocument(xml);
  const entity = selectEntity(root, opts.entityId);
  const entityId = entityIdOf(entity);
  const idp = idpDescriptor(entity);
  if (!idp) {
    throw new AppError(
      'METADATA_NOT_IDP',
      `entity "${entityId}" has no IDPSSODescriptor supporting the SAML 2.0 protocol`,
      { entityId },
    );
  }

  const ssoRedirectUrl = endpoint(idp, 'SingleSignOnService', BINDING_REDIRECT);
  const ssoPostUrl = endpoint(idp, 'SingleSignOnService', BINDING_POST);
  if (ssoRedirectUrl === null && ssoPostUrl === null) {
    // Only SOAP/Artifact SSO would leave the SP with no way to send a browser to the IdP.
    throw invalid('IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding', {
      path: ['IDPSSODescriptor', 'SingleSignOnService'],
    });
  }

  return {
    entityId,
    ssoRedirectUrl,
    ssoPostUrl,
    sloUrl:
      endpoint(idp, 'SingleLogoutService', BINDING_REDIRECT) ??
      endpoint(idp, 'SingleLogoutService', BINDING_POST),
    signingCertificates: signingCertificates(idp),
    nameIdFormats: [...new Set(children(idp, MD, 'NameIDFormat').map((el) => textOf(el).trim()))].filter(
      (f) => f !== '',
    ),
    wantAuthnRequestsSigned: xsBoolean(idp, 'WantAuthnRequestsSigned'),
  };
}

function parseDocument(xml: string): Element {
  if (Buffer.byteLength(xml, 'utf8') > MAX_METADATA_BYTES) {
    throw invalid(`metadata is larger than ${MAX_METADATA_BYTES} bytes`, { maxBytes: MAX_METADATA_BYTES });
  }
  // Checked on the raw text so no DTD (external entities, entity expansion) ever reaches the parser.
  if (/<!DOCTYPE/i.test(xml)) throw invalid('metadata contains a DOCTYPE, which is not allowed');

  const problems: string[] = [];
  const record = (msg: unknown) => {
    problems.push(
      String(msg)
        .replace(/^\[xmldom \w+\]\s*/, '')
        .replace(/\s*@#\[line:(\d+),col:(\d+)\]$/, ' (line $1, column $2)')
        .replace(/\s*@#\[line:undefined,col:undefined\]$/, ''),
    );
  };
  // xmldom repairs many malformed documents and only warns; any complaint means the admin pasted
  // something other than what the IdP published, so all three levels are failures.
  const parser = new DOMParser({
    locator: {},
    errorHandler: { warning: record, error: record, fatalError: record },
  });
  let doc: Document;
  try {
    doc = parser.parseFromString(xml.replace(/^\uFEFF/, ''), 'text/xml');
  } catch (e) {
    throw invalid('metadata is not well-formed XML', {}, e);
  }
  if (problems.length > 0) {
    throw invalid(`metadata is not well-formed XML: ${problems[0]}`, {
      parserMessages: problems.slice(0, 5),
    });
  }
  const root = doc.documentElement;
  if (!root) throw invalid('metadata has no root element');
  if (
    root.namespaceURI !== MD ||
    (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')
  ) {
    throw invalid(`root element must be EntityDescriptor or EntitiesDescriptor in namespace ${MD}`, {
      rootElement: root.localName,
      rootNamespace: root.namespaceURI ?? null,
    });
  }
  return root;
}

function selectEntity(root: Element, wantedId: string | undefined): Element {
  const entities = root.localName === 'EntityDescriptor' ? [root] : entityDescriptors(root);
  if (wantedId !== undefined) {
    // Matched on the raw attribute so one broken unrelated entity in an aggregate does not block the pick.
    const match = entities.find((e) => rawEntityId(e) === wantedId);
    if (!match) throw invalid(`metadata has no entity with entityID "${wantedId}"`, { entityId: wantedId });
    return match;
  }
  if (root.localName === 'EntityDescriptor') return root;

  const idps = entities.filter((e) => idpDescriptor(e));
  const [only, ...rest] = idps;
  if (!only) {
    throw new AppError(
      'METADATA_NOT_IDP',
      'no entity in the metadata has an IDPSSODescriptor supporting SAML 2.0',
    );
  }
  if (rest.length > 0) {
    const ids = idps.map(rawEntityId);
    const listed = ids.slice(0, MAX_LISTED_ENTITY_IDS).join(', ');
    const more = ids.length > MAX_LISTED_ENTITY_IDS ? ` and ${ids.length - MAX_LISTED_ENTITY_IDS} more` : '';
    throw invalid(`metadata describes ${ids.length} IdPs; choose one by entityID: ${listed}${more}`, {
      entityIds: ids.slice(0, MAX_LISTED_ENTITY_IDS),
    });
  }
  return only;
}

/** EntityDescriptors of an EntitiesDescriptor, including nested groups, in document order. */
function entityDescriptors(group: Element): Element[] {
  const out: Element[] = [];
  for (const el of elementChildren(group)) {
    if (el.namespaceURI !== MD) continue;
    if (el.localName === 'EntityDescriptor') out.push(el);
    else if (el.localName === 'EntitiesDescriptor') out.push(...entityDescriptors(el));
  }
  return out;
}

const rawEntityId = (entity: Element): string => (entity.getAttribute('entityID') ?? '').trim();

function entityIdOf(entity: Element): string {
  const id = rawEntityId(entity);
  if (id === '')
    throw invalid('EntityDescriptor has no entityID', { path: ['EntityDescriptor', 'entityID'] });
  if (id.length > MAX_ENTITY_ID_LENGTH) {
    throw invalid(`entityID is longer than ${MAX_ENTITY_ID_LENGTH} characters`, {
      path: ['EntityDescriptor', 'entityID'],
    });
  }
  return id;
}

function idpDescriptor(entity: Element): Element | undefined {
  return children(entity, MD, 'IDPSSODescriptor').find((d) =>
    (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL),
  );
}

function endpoint(idp: Element, localName: string, binding: string): string | null {
  const el = children(idp, MD, localName).find((e) => e.getAttribute('Binding') === binding);
  if (!el) return null;
  const location = (el.getAttribute('Location') ?? '').trim();
  const path = ['IDPSSODescriptor', localName, binding];
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw invalid(`${localName} Location "${location}" is not an absolute URL`, { path });
  }
  // Plain http only for loopback, where tests and local demo IdPs run; anywhere else it would
  // send SAML messages (and the user's browser) over an unprotected channel.
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalid(`${localName} Location "${location}" must use https`, { path });
  }
  // Returned as published: the IdP compares our AuthnRequest Destination against its own spelling.
  return location;
}

function signingCertificates(idp: Element): IdpSigningCertificate[] {
  const byFingerprint = new Map<string, IdpSigningCertificate>();
  let index = 0;
  for (const kd of children(idp, MD, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    // An absent use means the key serves both purposes (SAML metadata §2.4.1.1).
    if (use && use !== 'signing') continue;
    for (const keyInfo of children(kd, DS, 'KeyInfo')) {
      for (const data of children(keyInfo, DS, 'X509Data')) {
        for (const certEl of children(data, DS, 'X509Certificate')) {
          const cert = parseCertificate(textOf(certEl), index);
          if (!byFingerprint.has(cert.fingerprintSha256)) byFingerprint.set(cert.fingerprintSha256, cert);
          index++;
        }
      }
    }
  }
  if (byFingerprint.size === 0) {
    throw new AppError('METADATA_NO_SIGNING_KEY', 'IDPSSODescriptor has no signing X509Certificate', {
      path: ['IDPSSODescriptor', 'KeyDescriptor'],
    });
  }
  return [...byFingerprint.values()];
}

function parseCertificate(text: string, index: number): IdpSigningCertificate {
  const b64 = text.replace(/\s+/g, '');
  const fail = (cause?: unknown) =>
    new AppError(
      'METADATA_INVALID',
      `signing certificate ${index} is not a valid X.509 certificate`,
      { path: ['IDPSSODescriptor', 'KeyDescriptor', 'X509Certificate', index], index },
      { cause },
    );
  // Buffer.from skips characters outside the alphabet, which would hide a corrupted paste.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw fail();
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(b64, 'base64'));
  } catch (e) {
    throw fail(e);
  }
  return {
    pem: cert.toString(),
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprintSha256: cert.fingerprint256,
  };
}

function xsBoolean(el: Element, name: string): boolean {
  const v = (el.getAttribute(name) ?? '').trim();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw invalid(`${name} must be true or false`, { path: ['IDPSSODescriptor', name] });
}

function elementChildren(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

function children(parent: Element, ns: string, localName: string): Element[] {
  return elementChildren(parent).filter((el) => el.namespaceURI === ns && el.localName === localName);
}

/** Text and CDATA only, so a comment can neither split nor hide a value. */
function textOf(el: Element): string {
  let s = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) s += n.nodeValue ?? '';
  }
  return s;
}
