import { generateKeyPair, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { generate } from 'selfsigned';
import { z } from 'zod';
import type { Config, PemKeyPair } from '../config/config.js';

/** The SP's own keys: one signs AuthnRequests, the other decrypts EncryptedAssertions. */
export interface SpKeys {
  signing: PemKeyPair;
  decryption: PemKeyPair;
}

export interface SpKeyStore {
  /** Loaded (or generated) once per process, on first use. */
  get(): Promise<SpKeys>;
}

const KEY_FILE = 'saml-sp-keys.json';
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const Pair = z.object({ privateKeyPem: z.string().min(1), certPem: z.string().min(1) });
const KeyFile = z.object({ signing: Pair, decryption: Pair });

/**
 * SP keys from the environment, else from DATA_DIR, generated there on first use (like the admin
 * token). Generated keys suit one machine: processes behind a load balancer must share them (the
 * IdP encrypts for the certificate in our metadata), so production logs a warning when they are
 * not set in the environment.
 */
export function createSpKeyStore(deps: { config: Config; logger: Logger }): SpKeyStore {
  let loading: Promise<SpKeys> | null = null;
  const { config } = deps;

  async function load(): Promise<SpKeys> {
    if (config.spSigningKey && config.spDecryptionKey) {
      return { signing: config.spSigningKey, decryption: config.spDecryptionKey };
    }
    const stored = await readOrGenerate(path.resolve(config.dataDir, KEY_FILE));
    if (config.env === 'production') {
      deps.logger.warn(
        { file: path.resolve(config.dataDir, KEY_FILE) },
        'SAML SP keys not set in the environment (SAML_SP_SIGNING_*, SAML_SP_DECRYPTION_*); using generated keys',
      );
    }
    return {
      signing: config.spSigningKey ?? stored.signing,
      decryption: config.spDecryptionKey ?? stored.decryption,
    };
  }

  return {
    get() {
      loading ??= load().catch((e: unknown) => {
        loading = null;
        throw e;
      });
      return loading;
    },
  };
}

async function readOrGenerate(file: string): Promise<SpKeys> {
  const existing = readKeyFile(file);
  if (existing) return existing;
  const keys = { signing: await generatePair('signing'), decryption: await generatePair('encryption') };
  mkdirSync(path.dirname(file), { recursive: true });
  // Written aside and linked into place: link fails if another process got there first, and no
  // reader ever sees a half-written file. The first writer's keys win everywhere.
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, JSON.stringify(keys, null, 2), { mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(temp);
  }
  return readKeyFile(file) ?? keys;
}

function readKeyFile(file: string): SpKeys | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const parsed = KeyFile.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a jitprov SP key file; move it away to regenerate`);
  return parsed.data;
}

async function generatePair(use: string): Promise<PemKeyPair> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: `jitprov SAML SP ${use}` }], {
    keySize: 2048,
    // Node makes the key off the main thread, in about half the time of selfsigned's own.
    keyPair: await promisify(generateKeyPair)('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    }),
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + TEN_YEARS_MS),
  });
  return { privateKeyPem: pems.private, certPem: pems.cert };
}
