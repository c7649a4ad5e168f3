import xmlenc from 'xml-encryption';
import { AppError } from '../errors.js';
import { guardDecryptedAssertion, type SignaturePolicy } from './signature-guard.js';
import { descendants, elementChildren, hasDoctype, NS, parseStrictXml } from './xml.js';

// GCM first; CBC stays because Entra and ADFS still send it.
const CONTENT_ALGORITHMS = new Set([
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
  'http://www.w3.org/2001/04/xmlenc#aes128-cbc',
  'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
]);
// RSA-OAEP only: rsa-1_5 key transport is open to Bleichenbacher-style oracles.
const KEY_TRANSPORT_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p']);

const byLocalName = (root: Element, name: string): Element[] =>
  descendants(root).filter((el) => el.localName === name);

/**
 * Decrypts an EncryptedAssertion with the SP key, once, and guards the assertion inside like a
 * plain one (its signature's shape and algorithms). Every failure to get a well-formed assertion
 * out is one code with one message: a decryption error that named its cause would be a
 * padding/format oracle. Returns the (still unverified) decrypted assertion and the plaintext its
 * signature is then verified on.
 */
export async function inspectEncryptedAssertion(
  encrypted: Element,
  decryptionKeyPem: string,
  policy: SignaturePolicy,
): Promise<{ assertion: Element; xml: string }> {
  const data = elementChildren(encrypted).filter(
    (el) => el.namespaceURI === NS.xenc && el.localName === 'EncryptedData',
  );
  // xml-encryption takes the first EncryptedData/EncryptedKey it finds: any second one is ambiguity.
  if (data.length !== 1 || byLocalName(encrypted, 'EncryptedData').length !== 1) {
    throw undecryptable();
  }
  const keys = byLocalName(encrypted, 'EncryptedKey');
  if (keys.length !== 1) throw undecryptable();
  checkAlgorithm(data[0] as Element, CONTENT_ALGORITHMS, 'content encryption');
  checkAlgorithm(keys[0] as Element, KEY_TRANSPORT_ALGORITHMS, 'key transport');

  let plaintext: string;
  try {
    plaintext = await new Promise<string>((resolve, reject) =>
      xmlenc.decrypt(
        encrypted.toString(),
        {
          key: decryptionKeyPem,
          disallowDecryptionWithInsecureAlgorithm: true,
          warnInsecureAlgorithm: false,
        },
        (err, result) => (err || result === undefined ? reject(err) : resolve(result)),
      ),
    );
  } catch {
    throw undecryptable();
  }
  const assertion = hasDoctype(plaintext) ? undefined : parseStrictXml(plaintext)?.documentElement;
  if (!assertion || assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion') {
    throw undecryptable();
  }
  guardDecryptedAssertion(assertion, policy);
  return { assertion, xml: plaintext };
}

function checkAlgorithm(owner: Element, allowed: Set<string>, what: string): void {
  const methods = elementChildren(owner).filter(
    (el) => el.namespaceURI === NS.xenc && el.localName === 'EncryptionMethod',
  );
  const algorithm = methods.length === 1 ? (methods[0]?.getAttribute('Algorithm') ?? '') : '';
  if (!allowed.has(algorithm)) {
    throw new AppError(
      'SAML_ENCRYPTION_ALGORITHM_FORBIDDEN',
      `SAML response rejected: ${what} algorithm ${algorithm || '(none)'} is not allowed`,
      { algorithm },
    );
  }
}

const undecryptable = (): AppError =>
  new AppError(
    'SAML_DECRYPTION_FAILED',
    'SAML response rejected: the encrypted assertion could not be decrypted with this service key',
  );
