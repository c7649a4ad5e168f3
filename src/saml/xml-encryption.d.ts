/**
 * The part of xml-encryption 3.1 (node-saml's own decryption library, ships no types) that jitprov
 * uses: decrypting an EncryptedAssertion for inspection, and encrypting one in the demo IdP.
 */
declare module 'xml-encryption' {
  interface DecryptOptions {
    /** PEM private key. */
    key: string;
    /** Refuse rsa-1_5 key transport and 3DES content encryption. */
    disallowDecryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  interface EncryptOptions {
    /** PEM public key. */
    rsa_pub: string;
    /** PEM certificate, published in the EncryptedKey's KeyInfo. */
    pem: string;
    encryptionAlgorithm: string;
    keyEncryptionAlgorithm: string;
    keyEncryptionDigest?: 'sha1' | 'sha256' | 'sha512';
    disallowEncryptionWithInsecureAlgorithm?: boolean;
    warnInsecureAlgorithm?: boolean;
  }
  type Callback = (err: Error | null, result?: string) => void;
  const xmlenc: {
    decrypt(xml: string, options: DecryptOptions, callback: Callback): void;
    encrypt(content: string, options: EncryptOptions, callback: Callback): void;
  };
  export default xmlenc;
}
