import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeArgs, SERVER_ENTRY } from '../helpers/server-process.js';

/**
 * Starts the real server entry (from TypeScript, or compiled as `npm start` runs it) and collects
 * what it prints until it exits (or is stopped).
 */
function startServer(env: Record<string, string>, timeoutMs = 30_000, entry = 'src/server.ts') {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, nodeArgs(entry), {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('server start', () => {
  it('refuses to start with a bad plugin, naming the file and the fault', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'jitprov-start-'));
    try {
      const { code, output } = await startServer({
        PLUGIN_DIR: path.resolve('test/fixtures/bad-plugins/forbidden-import-fs'),
        ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests',
        DATA_DIR: dataDir,
      });
      expect(code).toBe(1);
      expect(output).toMatch(/jitprov failed to start/);
      expect(output).toMatch(/reads-files\.ts/);
      expect(output).toMatch(/node:fs|import/i);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('compiled, refuses a PLUGIN_DIR of TypeScript plugins, naming the file and what to do', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'jitprov-start-'));
    try {
      const { code, output } = await startServer(
        {
          PLUGIN_DIR: path.resolve('test/fixtures/bad-plugins/forbidden-import-fs'),
          ADMIN_TOKEN: 'a-long-enough-admin-token-for-tests',
          DATA_DIR: dataDir,
        },
        30_000,
        SERVER_ENTRY,
      );
      expect(code).toBe(1);
      expect(output).toMatch(/jitprov failed to start/);
      expect(output).toMatch(/reads-files\.ts/);
      expect(output).toMatch(/is TypeScript, and the compiled server loads JavaScript/);
      expect(output).not.toMatch(/at .*\.js:\d+/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses to start with an invalid environment, naming the variable', async () => {
    const { code, output } = await startServer({ PORT: 'not-a-port', ADMIN_TOKEN: 'x' });
    expect(code).toBe(2);
    expect(output).toMatch(/PORT/);
    expect(output).toMatch(/ADMIN_TOKEN/);
    expect(output).not.toMatch(/at .*\.ts:\d+/);
  });

  it('refuses to start in production without ADMIN_TOKEN', async () => {
    const { code, output } = await startServer({ NODE_ENV: 'production' });
    expect(code).toBe(2);
    expect(output).toMatch(/ADMIN_TOKEN: required in production/);
  });
});
