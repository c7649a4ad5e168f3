import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/test-app.js';

/**
 * The README's "try it" path, against a server on a port of its own: `npm run demo:login` finds
 * the server by the same PORT the server was given (or --url), not only on :4000.
 */
const ADMIN_TOKEN = 'demo-login-test-admin-token-0123456789';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

function run(args: string[], env: Record<string, string>, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-login.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ADMIN_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let server: ChildProcess;
let port: number;
let dataDir: string;
let drop: () => Promise<void>;

beforeAll(async () => {
  const db = await createTestDatabase();
  drop = db.drop;
  port = await freePort();
  dataDir = mkdtempSync(path.join(tmpdir(), 'jitprov-demo-'));
  server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: db.url,
      ADMIN_TOKEN,
      DATA_DIR: dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 60_000);
    server.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('jitprov listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.stderr?.on('data', (d) => (out += d));
  });
}, 90_000);
afterAll(async () => {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo:login against a server on another port', () => {
  it('follows PORT', async () => {
    const r = await run(['ada@example.com'], { PORT: String(port), DATA_DIR: dataDir });
    expect(r.output).not.toMatch(/cannot reach/);
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/ada@example\.com/);
  }, 90_000);

  it('takes --url, and says clearly where it looked when nothing answers', async () => {
    const ok = await run(['bo@example.com', '--url', `http://127.0.0.1:${port}`], { DATA_DIR: dataDir });
    expect(ok.code, ok.output).toBe(0);
    const dead = await freePort();
    const refused = await run(['cy@example.com', '--url', `http://127.0.0.1:${dead}`], { DATA_DIR: dataDir });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(`cannot reach jitprov at http://127.0.0.1:${dead}`);
    expect(refused.output).not.toMatch(/at .*\.ts:\d+/);
  }, 90_000);
});
