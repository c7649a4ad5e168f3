import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { type ClusterPlan, planCluster } from './config/cluster-plan.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { createLogger } from './http/logger.js';
import { serveClusterMetrics } from './metrics/cluster.js';
import { openOrm } from './orm.js';
import { ensureAdminToken, failedToStart, runServer } from './start.js';

/**
 * `npm run start:cluster`: one server process per core (node:cluster), all sharing the port, with
 * the worker threads sized so that processes × threads ≤ cores — every process validates SAML and
 * runs transforms in its own threads, so more threads than cores would only queue on the CPU.
 *
 *   CLUSTER_PROCESSES  processes (default: the cores)
 *   WORKER_THREADS     threads per process (default: cores ÷ processes, at least 1)
 *
 * The primary applies the migrations once and settles the generated admin token before the
 * processes start (they would race for both). It restarts a process that dies (at most 5 times a
 * minute), and on SIGTERM/SIGINT passes the signal on: each process drains as `npm start` does;
 * the primary exits 0 when every one did.
 */

async function primary(): Promise<void> {
  let config: Config;
  let plan: ClusterPlan;
  try {
    plan = planCluster(availableParallelism(), process.env);
    config = loadConfig({ ...process.env, WORKER_THREADS: String(plan.threads) });
  } catch (e) {
    process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl && plan.processes > 1) {
    process.stderr.write(
      'invalid environment:\n  DATABASE_URL: the cluster needs PostgreSQL (the embedded database serves one process)\n',
    );
    process.exit(2);
  }
  if (plan.processes * plan.threads > plan.cores) {
    logger.warn(plan, 'CLUSTER_PROCESSES × WORKER_THREADS exceeds the cores: threads will queue on the CPU');
  }
  config = ensureAdminToken(config);
  if (config.databaseUrl) {
    // Once, before the processes start; theirs then find nothing to do.
    const orm = await openOrm({ databaseUrl: config.databaseUrl, poolSize: 1 });
    await orm.close();
  }
  const env = {
    WORKER_THREADS: String(plan.threads),
    ...(config.adminToken ? { ADMIN_TOKEN: config.adminToken } : {}),
  };
  logger.info(plan, 'jitprov cluster starting');
  serveClusterMetrics();

  let stopping = false;
  const restarts: number[] = [];
  const fork = (): Worker => cluster.fork(env);
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    while (restarts.length > 0 && (restarts[0] as number) < now - 60_000) restarts.shift();
    if (restarts.length >= 5) {
      logger.error({ pid: worker.process.pid, code, signal }, 'server process died again: giving up');
      void stop('restart limit', 1);
      return;
    }
    restarts.push(now);
    logger.warn({ pid: worker.process.pid, code, signal }, 'server process died: starting another');
    fork();
  });
  for (let i = 0; i < plan.processes; i++) fork();

  const stop = async (why: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'cluster shutting down');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    const codes = await Promise.all(
      workers.map(
        (w) =>
          new Promise<number>((resolve) => {
            if (w.isDead()) return resolve(w.process.exitCode ?? 0);
            w.once('exit', (code) => resolve(code ?? 1));
            w.process.kill('SIGTERM');
          }),
      ),
    );
    process.exit(codes.every((c) => c === 0) ? exitCode : 1);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (cluster.isPrimary) primary().catch(failedToStart);
else runServer().catch(failedToStart);
