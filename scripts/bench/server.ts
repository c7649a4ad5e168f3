import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';

export interface ServerOptions {
  repoRoot: string;
  databaseUrl: string;
  adminToken: string;
  port: number;
  publicUrl: string;
  dataDir: string;
  logFile: string;
  /** Directory for `--cpu-prof` output; null = no profiling. */
  cpuProfDir: string | null;
  /** The entry (default build/server/server.js as `npm start` runs it; build/cluster/cluster.js for `npm run start:cluster`; a .ts entry runs through tsx). */
  entry?: string;
  /** More environment for the server (e.g. CLUSTER_PROCESSES). */
  env?: Record<string, string>;
}

export interface RunningServer {
  pid: number;
  /** The child's resident set size now, in MiB (VmRSS from /proc). */
  rssMiB(): number;
  cpu(): CpuSnapshot;
  stop(): Promise<void>;
  /** From the spawn to the first 200 from /readyz (polled every 10 ms), in ms. */
  readyMs: number;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export function readRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * The real server process, as production runs it: its own node, NODE_ENV=production, no in-process
 * shortcuts. Node is started directly (not through npm) so that the pid is the server's own.
 */
export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = openSync(o.logFile, 'w');
  const args = [
    ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
    // As `npm start` runs it (see package.json): the V8 heap capped per thread, the young generation
    // kept at V8's large-heap size (a small old-space cap would otherwise shrink it to 2 MB).
    `--max-old-space-size=${process.env.JITPROV_HEAP_MB ?? '256'}`,
    '--max-semi-space-size=16',
    // Node flags for the server alone, to try settings without touching the bench.
    ...(process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? []),
    ...(o.entry?.endsWith('.ts') ? ['--import', 'tsx'] : []),
    o.entry ?? path.join('build', 'server', 'server.js'),
  ];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: o.repoRoot,
    // The caller's environment passes through, so DB_POOL_SIZE or WORKER_THREADS can be tried.
    env: {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: o.databaseUrl,
      ADMIN_TOKEN: o.adminToken,
      PORT: String(o.port),
      HOST: '127.0.0.1',
      PUBLIC_URL: o.publicUrl,
      DATA_DIR: o.dataDir,
      LOG_LEVEL: 'warn',
      // Each ACS answer says how long validation, transforms and the database took.
      SERVER_TIMING: 'true',
      ...o.env,
    },
    stdio: ['ignore', log, log],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the server');
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? (signal ? 128 : 0);
      resolve();
    }),
  );

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`the server exited with ${exited} while starting; see ${o.logFile}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${o.port}/readyz`);
      if (res.ok) break;
      await res.arrayBuffer();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready within 60 s; see ${o.logFile}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - spawnedAt;

  return {
    pid,
    readyMs,
    kill: async () => {
      if (exited !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
    rssMiB: () => readRssMiB(pid) + childrenOf(pid).reduce((sum, c) => sum + readRssMiB(c), 0),
    cpu: () => withChildren(pid),
    stop: async () => {
      if (exited !== null) return;
      // SIGTERM: the server's own shutdown (and, when profiling, the profile written at exit).
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The child processes of a process (a cluster primary's server processes). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** readCpu, with the children's CPU added (main thread: the sum of their main threads). */
function withChildren(pid: number): CpuSnapshot {
  const own = readCpu(pid);
  for (const child of childrenOf(pid)) {
    const c = readCpu(child);
    own.mainSeconds += c.mainSeconds;
    own.totalSeconds += c.totalSeconds;
  }
  return own;
}

/** CPU seconds used so far by a process's main thread and by all its threads, at a wall time. */
export interface CpuSnapshot {
  mainSeconds: number;
  totalSeconds: number;
  atMs: number;
}

// USER_HZ: the unit of /proc/<pid>/stat times; 100 on every mainstream Linux build.
const TICKS_PER_SECOND = 100;

function statSeconds(file: string): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the parenthesised command name: state is the 3rd field, utime the 14th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/**
 * The main thread is the task whose id is the pid: its share of the wall clock says whether the
 * event loop is the bottleneck; the process total counts worker threads (validation, plugins) too.
 */
export function readCpu(pid: number): CpuSnapshot {
  return {
    mainSeconds: statSeconds(`/proc/${pid}/task/${pid}/stat`),
    totalSeconds: statSeconds(`/proc/${pid}/stat`),
    atMs: performance.now(),
  };
}

/**
 * CPU seconds used so far by every PostgreSQL process of this machine (the bench's database is the
 * only busy one while it runs): with the server's and the client's, where the 2 cores went.
 */
export function readPostgresSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue; // gone meanwhile
    }
    const s = statSeconds(`/proc/${entry}/stat`);
    if (Number.isFinite(s)) total += s;
  }
  return total;
}

export interface CpuUse {
  /** Main thread busy, % of the wall clock. */
  mainPct: number;
  /** All threads, in cores (1.0 = one core busy all the time). */
  cores: number;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wall = (b.atMs - a.atMs) / 1000;
  return {
    mainPct: ((b.mainSeconds - a.mainSeconds) / wall) * 100,
    cores: (b.totalSeconds - a.totalSeconds) / wall,
  };
}

/** Samples a process's RSS on an interval; the peak is what a phase reports. */
export function rssSampler(read: () => number, everyMs = 100) {
  let peak = read();
  const timer = setInterval(() => {
    const v = read();
    if (v > peak) peak = v;
  }, everyMs);
  return {
    peak: () => Math.max(peak, read()),
    reset: () => {
      peak = read();
    },
    stop: () => clearInterval(timer),
  };
}
