import { DOMParser } from '@xmldom/xmldom';
import xmlenc from 'xml-encryption';

export interface AssertionEncryptionOptions {
  /** The SP's encryption certificate (KeyDescriptor use="encryption" in its metadata). */
  certPem: string;
  /** Default aes256-gcm. */
  contentAlgorithm?: string;
  /** Default rsa-oaep-mgf1p. */
  keyAlgorithm?: string;
}

const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';

/**
 * Replaces the (signed) assertion of a Response with an EncryptedAssertion for the SP's certificate,
 * as an IdP configured to encrypt tokens sends it: the signature is inside, verified after decryption.
 */
export async function encryptAssertion(
  responseXml: string,
  opts: AssertionEncryptionOptions,
): Promise<string> {
  const doc = new DOMParser().parseFromString(responseXml, 'text/xml');
  const assertion = doc.getElementsByTagNameNS(SAML, 'Assertion')[0];
  if (!assertion?.parentNode) throw new Error('the response has no assertion to encrypt');
  // Serialized on its own, the assertion must still declare every namespace it uses.
  const plain = assertion.toString();
  const encrypted = await new Promise<string>((resolve, reject) =>
    xmlenc.encrypt(
      plain,
      {
        rsa_pub: opts.certPem,
        pem: opts.certPem,
        encryptionAlgorithm: opts.contentAlgorithm ?? 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: opts.keyAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        warnInsecureAlgorithm: false,
      },
      (err, result) => (err || result === undefined ? reject(err) : resolve(result)),
    ),
  );
  const wrapper = new DOMParser().parseFromString(
    `<saml:EncryptedAssertion xmlns:saml="${SAML}">${encrypted}</saml:EncryptedAssertion>`,
    'text/xml',
  );
  const imported = doc.importNode(wrapper.documentElement as Element, true);
  assertion.parentNode.replaceChild(imported, assertion);
  return doc.toString();
}
