import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the admin console once before the browser tests, so they test the console's current source
 * (not whatever `npm ci` built last). One build for all files: they share console/dist.
 */
export default function buildConsole(): void {
  execFileSync('npm', ['run', '--silent', 'console:build'], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
