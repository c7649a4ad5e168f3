import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the package's folders are, from whichever copy of the server is running: the TypeScript in
 * src/ (tsx, vitest), or the compiled bundles in build/ (`npm start`; see scripts/build.mjs). The
 * bundles are plain JavaScript and load the plugin kit and the plugins compiled beside them (the
 * plugins must meet the same kit module the server checks them against).
 */
const here = fileURLToPath(import.meta.url);

/** Running from the compiled build rather than from TypeScript. */
export const COMPILED = !here.endsWith('.ts');

function packageRoot(from: string): string {
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'jitprov') return dir;
    } catch {
      // no package.json here: look further up
    }
    if (path.dirname(dir) === dir) throw new Error(`jitprov: no package root above ${from}`);
  }
}

/** The package root: package.json, console/dist, the source plugins/. */
export const PACKAGE_ROOT = packageRoot(here);

/** The folder holding kit/ and plugins/ as this copy of the server loads them. */
export const CODE_ROOT = COMPILED ? path.join(PACKAGE_ROOT, 'build') : PACKAGE_ROOT;
