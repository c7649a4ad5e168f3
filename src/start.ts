import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './http/logger.js';
import { startTracing } from './metrics/tracing.js';
import { startWorkers } from './workers/workers.js';

/** Outside production an admin token is generated once and kept in DATA_DIR, for the demo tool. */
export function ensureAdminToken(config: Config): Config {
  if (config.adminToken) return config;
  const file = path.resolve(config.dataDir, 'admin-token');
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch {
    token = randomBytes(32).toString('base64url');
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  return Object.freeze({ ...config, adminToken: token });
}

/** Starts one server process: config, workers, database (migrations), listen; stops on SIGTERM/SIGINT. */
export async function runServer(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  if (!config.adminToken) {
    config = ensureAdminToken(config);
    logger.warn(
      { file: path.resolve(config.dataDir, 'admin-token') },
      'ADMIN_TOKEN not set; using a generated token',
    );
  }
  // Traces only when an OTLP endpoint is configured.
  const tracing = await startTracing({
    endpoint: config.otlpTracesEndpoint,
    serviceName: config.otelServiceName,
  });
  if (tracing) logger.info({ endpoint: config.otlpTracesEndpoint }, 'exporting traces (OTLP/HTTP)');
  // The start is three things at once (a restart after a crash is downtime): the worker threads load
  // the SAML stack and the plugins, the database opens and checks its migrations, and this thread
  // loads the rest of the server's modules. A bad plugin stops the start: better no server than
  // sign-ins failing on a broken transform.
  const workersReady = startWorkers({
    ...(config.pluginDir ? { pluginDir: config.pluginDir } : {}),
    size: config.workers.threads,
    timeoutMs: config.workers.timeoutMs,
    transformDeadlineMs: config.workers.deadlineMs,
    validationDeadlineMs: config.workers.validationDeadlineMs,
    log: logger,
  });
  const dbReady = import('./orm.js').then(({ openDatabase }) =>
    // The driver's warnings (a pooled connection lost, say) as log lines like the rest.
    openDatabase(
      config,
      (msg) => logger.info(msg),
      (level, message) => logger[level]({ component: 'database driver' }, message),
    ),
  );
  const modulesReady = Promise.all([
    import('./app.js'),
    import('@whatwg-node/server'),
    import('./mapping/samples.sql.js'),
    import('./provisioning/consumed-assertion.entity.js'),
  ]);
  const [w, d, m] = await Promise.allSettled([workersReady, dbReady, modulesReady]);
  if (w.status === 'rejected' || d.status === 'rejected' || m.status === 'rejected') {
    if (w.status === 'fulfilled') await w.value.close();
    if (d.status === 'fulfilled') await d.value.close();
    throw [w, d, m].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []))[0];
  }
  const workers = w.value;
  const db = d.value;
  const [{ createApp }, { createServerAdapter }, { sweepSignInSamples }, { sweepConsumedAssertions }] =
    m.value;
  logger.info(
    { plugins: workers.plugins.list().map((p) => `${p.name}@${p.version}`), threads: config.workers.threads },
    'workers ready, transform plugins loaded',
  );
  logger.info({ embedded: db.embedded }, 'database ready, migrations applied');

  const app = createApp({ config, orm: db.orm, logger, workers });
  const server = createServer(createServerAdapter(app.fetch));
  // Replay records are only needed until their assertions expire.
  const sweep = setInterval(() => {
    sweepConsumedAssertions(db.orm.em.fork()).catch((err: unknown) =>
      logger.warn({ err }, 'replay cache sweep failed'),
    );
    // Sign-in samples are personal data: kept no longer, and no more, than each connection says.
    sweepSignInSamples(db.orm.em.fork()).catch((err: unknown) =>
      logger.warn({ err }, 'sign-in sample sweep failed'),
    );
  }, 10 * 60_000);
  sweep.unref();
  // People who stopped signing in: blocked and/or their seats given back, by each connection's policy.
  const stopInactivity = app.inactivity.schedule(config.inactivityIntervalSeconds * 1000);

  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ url: `http://${config.host}:${port}`, spEntityId: config.spEntityId }, 'jitprov listening');
  });

  // Graceful shutdown: stop accepting, let the sign-ins in flight finish (SHUTDOWN_GRACE_MS at
  // most; meanwhile new requests on open connections get 503 SHUTTING_DOWN and /readyz says 503),
  // then close the workers and the database. Exit 0 when nothing was cut short; 1 when the grace
  // ran out (what was cut short is rolled back by PostgreSQL with its connection, never half-written).
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: draining requests in flight');
    clearInterval(sweep);
    stopInactivity();
    const deadline = Date.now() + config.shutdownGraceMs;
    const connectionsClosed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const { unfinished } = await app.drain(config.shutdownGraceMs);
    if (unfinished > 0) logger.warn({ unfinished }, 'grace period over: cutting requests in flight short');
    // The answers are written after the app returns them: let node finish each, closing every
    // connection as it falls idle, until none is left (or the grace, at least a second more, is over).
    const sweeper = setInterval(() => server.closeIdleConnections(), 25);
    await Promise.race([
      connectionsClosed,
      new Promise((r) => setTimeout(r, Math.max(1000, deadline - Date.now())).unref()),
    ]);
    clearInterval(sweeper);
    server.closeAllConnections();
    const closing = (async () => {
      await workers.close();
      await db.close();
      await tracing?.shutdown();
    })();
    // A pool waiting on a connection that never comes back must not keep the process alive.
    const closed = await Promise.race([
      closing.then(
        () => true,
        (err: unknown) => {
          logger.error({ err }, 'closing the workers or the database failed');
          return false;
        },
      ),
      new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref()),
    ]);
    if (!closed) logger.warn('workers or database did not close in 5 s');
    logger.info({ unfinished }, 'stopped');
    process.exit(unfinished > 0 || !closed ? 1 : 0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** Exit 1 with the cause on one line (no stack trace) when the start fails. */
export function failedToStart(e: unknown): never {
  process.stderr.write(`jitprov failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
