import { spawn } from 'node:child_process';
import pg from 'pg';

export interface BenchDatabase {
  name: string;
  url: string;
  serverVersion: string;
  drop(): Promise<void>;
}

/**
 * A connected client. A connection the server ends (the database dropped with force on Ctrl-C)
 * emits 'error' outside any query: the query in flight rejects anyway, the event must not crash.
 */
export async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of the bench's own on the server of `baseUrl`, dropped by `drop()`. */
export async function createBenchDatabase(baseUrl: string, name: string): Promise<BenchDatabase> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`);
  const serverVersion = await withClient(baseUrl, async (c) => {
    await c.query(`create database ${name}`);
    const r = await c.query<{ v: string }>('select current_setting($1) as v', ['server_version']);
    return `PostgreSQL ${r.rows[0]?.v ?? '?'}`;
  });
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    serverVersion,
    drop: () =>
      withClient(baseUrl, (c) => c.query(`drop database if exists ${name} with (force)`)).then(() => {}),
  };
}

/** Applies the migrations with the project's own script, so the schema is exactly the server's. */
export async function migrate(repoRoot: string, databaseUrl: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`migrations failed (${code}): ${stderr.slice(0, 2000)}`);
}
