import { DOMParser } from '@xmldom/xmldom';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';

export interface MetadataPreview {
  entityId: string;
  ssoServices: { binding: string; location: string }[];
  /** Base64 DER of each signing certificate. */
  certificates: string[];
}

/**
 * What the pasted federation metadata says, read in the browser before anything is saved (the
 * server reads and checks it again when the connection is created: this is only the admin's look).
 * xmldom (the server's parser too) rather than the browser's: that one answers malformed XML with a
 * styled error document, which the console's CSP (no inline style) reports as a violation.
 */
export function readMetadata(xml: string): MetadataPreview | { problem: string } {
  let malformed = false;
  const fail = () => {
    malformed = true;
  };
  const doc = new DOMParser({
    errorHandler: { warning: () => {}, error: fail, fatalError: fail },
  }).parseFromString(xml, 'application/xml');
  if (malformed || !doc?.documentElement) return { problem: 'This is not well-formed XML.' };
  const idp = doc.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  if (!idp) return { problem: 'The metadata has no IdP descriptor (IDPSSODescriptor).' };
  const entity = idp.parentNode as { getAttribute?(name: string): string | null } | null;
  const entityId = entity?.getAttribute?.('entityID') ?? '';
  const ssoServices = Array.from(idp.getElementsByTagNameNS(MD, 'SingleSignOnService')).map((s) => ({
    binding: (s.getAttribute('Binding') ?? '').replace('urn:oasis:names:tc:SAML:2.0:bindings:', ''),
    location: s.getAttribute('Location') ?? '',
  }));
  const certificates = Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))
    .filter((k) => (k.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((k) => Array.from(k.getElementsByTagNameNS(DS, 'X509Certificate')))
    .map((c) => (c.textContent ?? '').replace(/\s+/g, ''))
    .filter(Boolean);
  return { entityId, ssoServices, certificates: [...new Set(certificates)] };
}
