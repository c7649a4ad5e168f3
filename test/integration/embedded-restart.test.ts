import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ENTRY } from '../helpers/server-process.js';

/**
 * Acceptance: with no DATABASE_URL, start the server, sign a user in, restart, and the user is still
 * there. Done as a person would: real server processes on the embedded database and the demo script,
 * all on 127.0.0.1.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// initdb on a fresh DATA_DIR takes seconds; two starts, two sign-ins and a refused start share this.
const TIMEOUT = 120_000;
const READY_WITHIN = 60_000;
const EXIT_WITHIN = 30_000;

interface Proc {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved: the diagnosis when an assertion fails. */
  output(): string;
  exit: Promise<number | null>;
}

interface Server {
  proc: Proc;
  url: string;
}

const children: Proc[] = [];
let dataDir: string | undefined;

/** A port the OS just handed out and took back: free unless someone grabs it in between. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** `node <args>` (the compiled server as `npm start` runs it; a .ts script through tsx) in the repository root, with this process's env minus what would leak in. */
function run(args: string[], env: Record<string, string>): Proc {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The point is the embedded database and the generated admin token: nothing inherited may override.
  for (const name of ['DATABASE_URL', 'ADMIN_TOKEN', 'HOST', 'SP_ENTITY_ID']) {
    if (!(name in env)) delete childEnv[name];
  }
  const child = spawn(process.execPath, args[0]?.endsWith('.ts') ? ['--import', 'tsx', ...args] : args, {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const proc: Proc = { child, output: () => output, exit };
  children.push(proc);
  return proc;
}

function exitWithin(proc: Proc, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms; output:\n${proc.output()}`)), ms);
  });
  return Promise.race([proc.exit, timeout]).finally(() => clearTimeout(timer));
}

async function startServer(dir: string, port: number): Promise<Server> {
  const url = `http://127.0.0.1:${port}`;
  const proc = run([SERVER_ENTRY], {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dir,
    PUBLIC_URL: url,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
  });
  await waitForReady(url, proc);
  return { proc, url };
}

async function waitForReady(url: string, proc: Proc): Promise<void> {
  const deadline = Date.now() + READY_WITHIN;
  let exited = false;
  void proc.exit.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`server exited before it was ready; output:\n${proc.output()}`);
    const status = await fetch(`${url}/readyz`).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server not ready within ${READY_WITHIN} ms; output:\n${proc.output()}`);
}

/** SIGTERM, as a terminal's Ctrl-C or a process manager would, then the exit code. */
async function stopServer(server: Server): Promise<number | null> {
  server.proc.child.kill('SIGTERM');
  return exitWithin(server.proc, EXIT_WITHIN);
}

async function demoLogin(server: Server, dir: string, email: string) {
  const proc = run(['scripts/demo-login.ts', email], { JITPROV_URL: server.url, DATA_DIR: dir });
  const code = await exitWithin(proc, EXIT_WITHIN);
  return { code, output: proc.output() };
}

async function graphql<T>(
  server: Server,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { data?: T; errors?: unknown[] };
}

afterAll(async () => {
  for (const proc of children) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  }
  await Promise.all(children.map((proc) => proc.exit));
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
}, EXIT_WITHIN);

describe('embedded database across a restart', { timeout: TIMEOUT }, () => {
  it('With no DATABASE_URL: start, sign a user in, restart, the user is still there', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'jitprov-restart-'));
    const port = await freePort();
    const first = await startServer(dataDir, port);

    // While it runs, a second server on the same DATA_DIR must refuse rather than corrupt the folder.
    const intruder = run([SERVER_ENTRY], {
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
    });
    expect(await exitWithin(intruder, EXIT_WITHIN), intruder.output()).not.toBe(0);
    expect(intruder.output()).toContain(`is in use by pid ${first.proc.child.pid}`);
    expect(intruder.output()).toContain(`lock file ${path.join(dataDir, 'pglite.lock')}`);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    const login = await demoLogin(first, dataDir, 'bob@example.com');
    expect(login.code, login.output).toBe(0);
    expect(login.output).toContain('Signed in as bob@example.com: user created');
    expect(login.output).toContain('"created": true');
    const sessionToken = /"sessionToken": "(jps_[^"]+)"/.exec(login.output)?.[1] ?? '';
    expect(sessionToken, login.output).not.toBe('');

    expect(await stopServer(first), first.proc.output()).toBe(0);
    const second = await startServer(dataDir, port);

    // The session issued before the restart still works: user, contact and license were all kept.
    const me = await graphql<{ me: { id: string } | null }>(
      second,
      sessionToken,
      '{ me { id username contact { email fullName } licenses { name } } }',
    );
    expect(me).toEqual({
      data: {
        me: {
          id: expect.any(String),
          username: 'bob@example.com',
          contact: { email: 'bob@example.com', fullName: 'Bob' },
          licenses: [{ name: 'Demo' }],
        },
      },
    });
    const userId = me.data?.me?.id ?? '';

    const adminToken = (await fs.readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    const node = await graphql(
      second,
      adminToken,
      'query($id: ID!) { node(id: $id) { ... on User { username status contact { email } } } }',
      { id: userId },
    );
    expect(node).toEqual({
      data: {
        node: { username: 'bob@example.com', status: 'ACTIVE', contact: { email: 'bob@example.com' } },
      },
    });

    // Signing in again finds the user, and the connection and IdP key made before the restart.
    const again = await demoLogin(second, dataDir, 'bob@example.com');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('"created": false');
    expect(again.output).not.toContain('created for https://sts.windows.net/');
    expect(again.output).not.toContain('Demo IdP key created');

    expect(await stopServer(second), second.proc.output()).toBe(0);
  });
});
