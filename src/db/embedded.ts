import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** Connection string for the `pg` driver; user and database are fixed, PGlite ignores what the client sends. */
  url: string;
  dataDir: string;
  /** Stops serving, closes the database and releases the folder lock; safe to call more than once. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Socket connections served at once; must be at least the pool size, PGLiteSocketServer defaults to 1. */
  maxConnections?: number;
  log?: (msg: string) => void;
}

const DEFAULT_MAX_CONNECTIONS = 20;

/**
 * Runs PGlite on a local folder and serves it over the PostgreSQL wire protocol on 127.0.0.1, so the
 * ordinary `pg` driver connects unchanged. PGlite is a single backend: the socket server multiplexes
 * connections onto it and runs one transaction at a time.
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new Error(`maxConnections must be a positive integer, got ${maxConnections}`);
  }
  const startedAt = Date.now();

  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  const lock = acquireLock(dataDir);

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    // pg_trgm ships inside the package (no download); the contact search index needs it.
    db = await PGlite.create({ dataDir, extensions: { pg_trgm } });
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
    await server.start();
  } catch (e) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    lock.release();
    throw e;
  }

  // start() records the OS-assigned port, and getServerConn() is the only public way to read it.
  const port = Number(server.getServerConn().split(':').pop());
  if (!Number.isInteger(port) || port <= 0) {
    await server.stop().catch(() => {});
    await db.close().catch(() => {});
    lock.release();
    throw new Error(`embedded PostgreSQL: could not read the bound port from '${server.getServerConn()}'`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  log(`embedded PostgreSQL on 127.0.0.1:${port}, data in ${dataDir} (ready in ${Date.now() - startedAt} ms)`);

  const runningDb = db;
  const runningServer = server;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await runningServer.stop();
        await runningDb.close();
      } finally {
        // Released even if close failed: this process no longer uses the folder either way.
        lock.release();
        log(`embedded PostgreSQL stopped (data in ${dataDir})`);
      }
    })();
    return stopping;
  };

  return { url, dataDir, stop };
}

interface FolderLock {
  release(): void;
}

/**
 * Takes `${dataDir}.lock`: two PGlite processes writing one folder corrupt it, and nothing in PGlite
 * stops that. The file holds the owner's pid so a lock left by a crashed process can be taken over.
 */
function acquireLock(dataDir: string): FolderLock {
  const lockPath = `${dataDir}.lock`;
  const pid = process.pid;
  const inUse = (owner: number): Error =>
    new Error(`embedded PostgreSQL data folder ${dataDir} is in use by pid ${owner} (lock file ${lockPath})`);
  // A second attempt only follows a stale takeover; losing it means another process won that race.
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(pid), { flag: 'wx' });
      break;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    const owner = readLockPid(lockPath);
    if (owner !== undefined && isAlive(owner)) throw inUse(owner);
    if (attempt > 0) throw new Error(`embedded PostgreSQL: could not take the lock file ${lockPath}`);
    takeOverStale(lockPath, owner, inUse);
  }

  const releaseSync = (): void => {
    // Only remove our own lock: after a takeover race the file may belong to someone else.
    if (readLockPid(lockPath) === pid) fs.rmSync(lockPath, { force: true });
  };
  // 'exit' handlers must be synchronous, which is why the release is too.
  process.on('exit', releaseSync);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      process.off('exit', releaseSync);
      releaseSync();
    },
  };
}

/**
 * Moves a stale lock aside instead of deleting it: rename is atomic, so when two processes find the
 * same stale file only one of them moves it, and the other fails its 'wx' retry and reports the owner.
 */
function takeOverStale(
  lockPath: string,
  stalePid: number | undefined,
  inUse: (owner: number) => Error,
): void {
  const aside = `${lockPath}.stale-${process.pid}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return;
    throw e;
  }
  const moved = readLockPid(aside);
  if (moved !== stalePid && moved !== undefined && isAlive(moved)) {
    // Another process took the lock between our read and our rename; put its lock back.
    try {
      fs.linkSync(aside, lockPath);
    } catch (e) {
      // A third process holding the lock by now is just as much "in use".
      if (!isErrno(e, 'EEXIST')) throw e;
    } finally {
      fs.rmSync(aside, { force: true });
    }
    throw inUse(moved);
  }
  fs.rmSync(aside, { force: true });
}

function readLockPid(lockPath: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, 'utf8');
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return undefined;
    throw e;
  }
  const pid = Number(text.trim());
  // An empty or garbled file is what a crash between create and write leaves: treat it as stale.
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user, so it still holds the folder.
    return isErrno(e, 'EPERM');
  }
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && (e as NodeJS.ErrnoException).code === code;
}
