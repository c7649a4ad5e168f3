import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Compiles the server (scripts/build.mjs) once before the tests that start it as `npm start` does,
 * when a source is newer than the last build: the child processes run the current code.
 */
export default function buildServer(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale', '--quiet'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
