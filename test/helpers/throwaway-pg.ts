import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL cluster of the test's own — initdb into a temporary folder, its own port, bound to
 * 127.0.0.1 — that fault tests may stop, restart and cut without touching the shared server the
 * other test files use. Run as the `postgres` OS user (initdb refuses root).
 */
export interface ThrowawayCluster {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  dir: string;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the cluster and removes its folder. */
  destroy(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary as the postgres user (directly when we already are not root). */
async function asPostgres(bin: string, args: string[]): Promise<string> {
  const file = path.join(BIN, bin);
  const root = process.getuid?.() === 0;
  const { stdout } = root
    ? await run('runuser', ['-u', 'postgres', '--', file, ...args], { timeout: 60_000 })
    : await run(file, args, { timeout: 60_000 });
  return stdout;
}

/**
 * Creates and starts the cluster, or explains why it cannot (the caller skips with that reason,
 * printed, never a silent pass).
 */
export async function startThrowawayCluster(): Promise<ThrowawayCluster | { skip: string }> {
  if (!existsSync(path.join(BIN, 'initdb'))) return { skip: `no initdb in ${BIN} (set PG_BIN_DIR)` };
  const root = process.getuid?.() === 0;
  let uid = -1;
  let gid = -1;
  if (root) {
    try {
      const { stdout } = await run('id', ['-u', 'postgres']);
      uid = Number(stdout.trim());
      gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    } catch {
      return { skip: 'running as root and there is no postgres OS user to run initdb as' };
    }
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jitprov-pg-'));
  const data = path.join(dir, 'data');
  try {
    if (root) {
      chownSync(dir, uid, gid);
      chmodSync(dir, 0o700);
    }
    await asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `initdb failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=60',
    '-c shared_buffers=32MB',
  ].join(' ');
  const pgCtl = (args: string[]) => asPostgres('pg_ctl', ['-D', data, ...args]);
  const cluster: ThrowawayCluster = {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    start: async () => {
      await pgCtl(['-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
    },
    stop: async (mode = 'fast') => {
      await pgCtl(['-m', mode, '-w', '-t', '30', 'stop']);
    },
    restart: async () => {
      await pgCtl(['-m', 'fast', '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'restart']);
    },
    destroy: async () => {
      await pgCtl(['-m', 'immediate', '-w', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `the throwaway cluster did not start: ${(e as Error).message.split('\n')[0]}` };
  }
  return cluster;
}
