import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';

export interface IdpKeyPair {
  privateKeyPem: string;
  certPem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A fresh RSA-2048 key and self-signed certificate, like the ones Entra generates per enterprise app
 * (CN=Microsoft Azure Federated SSO Certificate, three years by default).
 */
export async function generateIdpKeyPair(
  opts: { commonName?: string; days?: number } = {},
): Promise<IdpKeyPair> {
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + (opts.days ?? 3 * 365) * DAY_MS);
  const pems = await generate(
    [{ name: 'commonName', value: opts.commonName ?? 'Microsoft Azure Federated SSO Certificate' }],
    {
      keySize: 2048,
      // Node makes the key off the main thread, in about half the time of selfsigned's own.
      keyPair: await rsaKeyPair(),
      // selfsigned 5 defaults to a SHA-1 certificate signature; Entra's certificates are SHA-256.
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
    },
  );
  return { privateKeyPem: pems.private, certPem: pems.cert };
}

const generateRsa = promisify(generateKeyPair);

async function rsaKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  return generateRsa('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}
