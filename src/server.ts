import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { createServerAdapter } from '@whatwg-node/server';
import { createApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './http/logger.js';
import { sweepSignInSamples } from './mapping/samples.sql.js';
import { openDatabase } from './orm.js';
import { sweepConsumedAssertions } from './provisioning/consumed-assertion.entity.js';
import { startWorkers } from './workers/workers.js';

/** Outside production an admin token is generated once and kept in DATA_DIR, for the demo tool. */
function ensureAdminToken(config: Config): Config {
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

async function main(): Promise<void> {
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
  // A bad plugin stops the start: better no server than sign-ins failing on a broken transform.
  const workers = await startWorkers({
    ...(config.pluginDir ? { pluginDir: config.pluginDir } : {}),
    size: config.workers.threads,
    timeoutMs: config.workers.timeoutMs,
    transformDeadlineMs: config.workers.deadlineMs,
    validationDeadlineMs: config.workers.validationDeadlineMs,
    log: logger,
  });
  logger.info(
    { plugins: workers.plugins.list().map((p) => `${p.name}@${p.version}`), threads: config.workers.threads },
    'workers ready, transform plugins loaded',
  );
  const db = await openDatabase(config, (msg) => logger.info(msg));
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    clearInterval(sweep);
    stopInactivity();
    server.close();
    server.closeAllConnections();
    await workers.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`jitprov failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
