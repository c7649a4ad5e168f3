import type { SpKeys } from './sp-keys.js';
import { escapeXml, pemToBase64 } from './xml.js';

const ENCRYPTION_METHODS = [
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
];

function keyDescriptor(use: 'signing' | 'encryption', certPem: string, methods: string[] = []): string {
  return (
    `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pemToBase64(certPem)}` +
    '</ds:X509Certificate></ds:X509Data></ds:KeyInfo>' +
    methods.map((m) => `<md:EncryptionMethod Algorithm="${m}"/>`).join('') +
    '</md:KeyDescriptor>'
  );
}

/**
 * The SP metadata an IdP admin imports: entity id, the HTTP-POST ACS, the certificate that signs our
 * AuthnRequests and the one IdPs encrypt assertions for. AuthnRequestsSigned stays false because
 * signing is a per-connection choice; the signing key is published so IdPs can verify when we do.
 */
export function buildSpMetadata(opts: { entityId: string; acsUrl: string; keys: SpKeys }): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"' +
    ` xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(opts.entityId)}">` +
    '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"' +
    ' AuthnRequestsSigned="false" WantAssertionsSigned="true">' +
    keyDescriptor('signing', opts.keys.signing.certPem) +
    keyDescriptor('encryption', opts.keys.decryption.certPem, ENCRYPTION_METHODS) +
    '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"' +
    ` Location="${escapeXml(opts.acsUrl)}" index="1" isDefault="true"/>` +
    '</md:SPSSODescriptor></md:EntityDescriptor>\n'
  );
}
