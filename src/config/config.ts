import { z } from 'zod';

/**
 * Environment parsed once into a frozen Config. Every other module takes the values it needs as
 * arguments; nothing else reads process.env.
 */
const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Unset: the embedded PostgreSQL (PGlite) in DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** The public base URL of this service; SP entity id and ACS URL derive from it. */
  PUBLIC_URL: z.string().url().optional(),
  SP_ENTITY_ID: z.string().min(1).optional(),
  /** Bootstrap admin token. Required in production; generated and stored in DATA_DIR otherwise. */
  ADMIN_TOKEN: z.string().min(24, 'ADMIN_TOKEN must be at least 24 characters').optional(),
  SESSION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(8 * 3600),
  SAML_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(4 * 1024 * 1024)
    .default(256 * 1024),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly dbPoolSize: number;
  readonly publicUrl: string;
  readonly spEntityId: string;
  readonly acsUrl: string;
  readonly adminToken: string | undefined;
  readonly sessionTtlSeconds: number;
  readonly samlMaxResponseBytes: number;
  readonly logLevel: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid environment:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.ADMIN_TOKEN) {
    throw new ConfigError('invalid environment:\n  ADMIN_TOKEN: required in production');
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    dbPoolSize: e.DB_POOL_SIZE,
    publicUrl,
    spEntityId: e.SP_ENTITY_ID ?? `${publicUrl}/saml/metadata`,
    acsUrl: `${publicUrl}/saml/acs`,
    adminToken: e.ADMIN_TOKEN,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    samlMaxResponseBytes: e.SAML_MAX_RESPONSE_BYTES,
    logLevel: e.LOG_LEVEL,
  });
}
