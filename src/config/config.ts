import { createPrivateKey, X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
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
  /** How often the inactivity policy runs (seconds; 0: never in this process). */
  INACTIVITY_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(3600),
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
  /** Largest GraphQL request body accepted. */
  GRAPHQL_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  /** Folder of transform plugins; default the repository's plugins/. */
  PLUGIN_DIR: z.string().min(1).optional(),
  /**
   * Worker threads validating SAML responses and evaluating transforms (one pool, one job per
   * thread at a time). Default: the cores, at least 2 (a runaway transform then still leaves a
   * thread), at most 4.
   */
  WORKER_THREADS: z.coerce.number().int().min(1).max(32).optional(),
  /** Hard deadline of one SAML validation in a worker. */
  VALIDATION_DEADLINE_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** JSONata's own time limit per transform evaluation. */
  PLUGIN_TIMEOUT_MS: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Hard deadline per transform evaluation: the worker is terminated past it. */
  PLUGIN_DEADLINE_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /** Comma-separated origins a RelayState may send the browser to after sign-in; default PUBLIC_URL's. */
  ALLOWED_REDIRECT_ORIGINS: z.string().optional(),
  /** How long an SP-initiated AuthnRequest can be answered. */
  SAML_AUTHN_REQUEST_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  /** SP key pairs (PEM; `\n` escapes allowed). Unset: generated once into DATA_DIR. */
  SAML_SP_SIGNING_KEY: z.string().min(1).optional(),
  SAML_SP_SIGNING_CERT: z.string().min(1).optional(),
  SAML_SP_DECRYPTION_KEY: z.string().min(1).optional(),
  SAML_SP_DECRYPTION_CERT: z.string().min(1).optional(),
  // Off by default: stage durations are for the operator's own measurements, not for every IdP.
  SERVER_TIMING: z.enum(['true', 'false']).default('false'),
  /** Bearer token of GET /metrics (Prometheus). Unset: the route answers 404. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  /** On SIGTERM: how long sign-ins and requests in flight may take to finish before the process exits. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /** Retry-After (seconds) on 503 answers: the database unavailable, a validation past its deadline, shutting down. */
  RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(2),
  /** OpenTelemetry traces (OTLP over HTTP): off unless one of these is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('jitprov'),
});

/** A private key and the certificate that publishes its public half. */
export interface PemKeyPair {
  readonly privateKeyPem: string;
  readonly certPem: string;
}

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
  readonly inactivityIntervalSeconds: number;
  readonly samlMaxResponseBytes: number;
  readonly logLevel: string;
  readonly graphqlMaxBodyBytes: number;
  readonly pluginDir: string | undefined;
  readonly workers: {
    readonly threads: number;
    /** JSONata's own time limit per transform, and the hard deadline per transform. */
    readonly timeoutMs: number;
    readonly deadlineMs: number;
    readonly validationDeadlineMs: number;
  };
  /** Origins (scheme://host[:port]) RelayState redirects may go to. */
  readonly allowedRedirectOrigins: readonly string[];
  readonly samlAuthnRequestTtlSeconds: number;
  /** Signs AuthnRequests for connections that ask for it; null = generated into DATA_DIR. */
  readonly spSigningKey: PemKeyPair | null;
  /** Decrypts EncryptedAssertions; null = generated into DATA_DIR. */
  readonly spDecryptionKey: PemKeyPair | null;
  /** ACS answers carry a Server-Timing header with the sign-in's stages. */
  readonly serverTiming: boolean;
  /** GET /metrics bearer token; undefined = no /metrics route. */
  readonly metricsToken: string | undefined;
  readonly shutdownGraceMs: number;
  readonly retryAfterSeconds: number;
  /** Where traces go (the full OTLP/HTTP traces URL); undefined = tracing off. */
  readonly otlpTracesEndpoint: string | undefined;
  readonly otelServiceName: string;
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
  const replaced = ['SAML_WORKERS', 'PLUGIN_WORKERS'].filter((name) => env[name] !== undefined);
  if (replaced.length > 0) {
    throw new ConfigError(
      `invalid environment:\n  ${replaced.join(', ')}: replaced by WORKER_THREADS (one pool validates and transforms)`,
    );
  }
  if (e.NODE_ENV === 'production' && !e.ADMIN_TOKEN) {
    throw new ConfigError('invalid environment:\n  ADMIN_TOKEN: required in production');
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const problems: string[] = [];
  const allowedRedirectOrigins = redirectOrigins(e.ALLOWED_REDIRECT_ORIGINS ?? publicUrl, problems);
  const spSigningKey = keyPair('SAML_SP_SIGNING', e.SAML_SP_SIGNING_KEY, e.SAML_SP_SIGNING_CERT, problems);
  const spDecryptionKey = keyPair(
    'SAML_SP_DECRYPTION',
    e.SAML_SP_DECRYPTION_KEY,
    e.SAML_SP_DECRYPTION_CERT,
    problems,
  );
  if (problems.length > 0) throw new ConfigError(`invalid environment:\n  ${problems.join('\n  ')}`);
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
    inactivityIntervalSeconds: e.INACTIVITY_INTERVAL_SECONDS,
    samlMaxResponseBytes: e.SAML_MAX_RESPONSE_BYTES,
    logLevel: e.LOG_LEVEL,
    graphqlMaxBodyBytes: e.GRAPHQL_MAX_BODY_BYTES,
    pluginDir: e.PLUGIN_DIR,
    workers: Object.freeze({
      threads: e.WORKER_THREADS ?? Math.min(4, Math.max(2, availableParallelism())),
      timeoutMs: e.PLUGIN_TIMEOUT_MS,
      deadlineMs: Math.max(e.PLUGIN_DEADLINE_MS, e.PLUGIN_TIMEOUT_MS),
      validationDeadlineMs: e.VALIDATION_DEADLINE_MS,
    }),
    allowedRedirectOrigins,
    samlAuthnRequestTtlSeconds: e.SAML_AUTHN_REQUEST_TTL_SECONDS,
    spSigningKey,
    spDecryptionKey,
    serverTiming: e.SERVER_TIMING === 'true',
    metricsToken: e.METRICS_TOKEN,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    retryAfterSeconds: e.RETRY_AFTER_SECONDS,
    otlpTracesEndpoint:
      e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (e.OTEL_EXPORTER_OTLP_ENDPOINT
        ? `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
        : undefined),
    otelServiceName: e.OTEL_SERVICE_NAME,
  });
}

function redirectOrigins(list: string, problems: string[]): string[] {
  const origins: string[] = [];
  for (const entry of list.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    let url: URL | null = null;
    try {
      url = new URL(entry);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      problems.push(`ALLOWED_REDIRECT_ORIGINS: "${entry}" is not an http(s) origin`);
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
}

function keyPair(
  prefix: string,
  key: string | undefined,
  cert: string | undefined,
  problems: string[],
): PemKeyPair | null {
  if (key === undefined && cert === undefined) return null;
  if (key === undefined || cert === undefined) {
    problems.push(`${prefix}_KEY and ${prefix}_CERT: set both or neither`);
    return null;
  }
  // Env files often carry PEM on one line with literal \n.
  const pair = { privateKeyPem: key.replace(/\\n/g, '\n'), certPem: cert.replace(/\\n/g, '\n') };
  try {
    if (!new X509Certificate(pair.certPem).checkPrivateKey(createPrivateKey(pair.privateKeyPem))) {
      problems.push(`${prefix}_CERT does not belong to ${prefix}_KEY`);
    }
  } catch {
    // The parse error may quote key material: name the variables only.
    problems.push(`${prefix}_KEY / ${prefix}_CERT: not a PEM private key and certificate`);
  }
  return pair;
}
