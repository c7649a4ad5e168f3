import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';

/** Where `npm run console:build` (run by `npm ci`'s prepare step) puts the admin console. */
export const CONSOLE_DIST = `${path.join(PACKAGE_ROOT, 'console', 'dist')}${path.sep}`;

/**
 * The console's headers: its scripts and styles come from this origin only (no inline script, no
 * eval), it talks to this origin only (the GraphQL API), and no other site may frame it.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * GET /admin and below: the built console. A path naming a built asset gets that file (hashed
 * names, cached for good); any other path gets index.html, so every console page is a deep link
 * that survives a reload. The console itself talks only to the public GraphQL API.
 */
export function createConsoleRoute(dist: string = CONSOLE_DIST) {
  const root = path.resolve(dist);

  async function file(rel: string): Promise<Buffer | null> {
    const full = path.resolve(root, rel);
    if (full !== root && !full.startsWith(root + path.sep)) return null;
    try {
      return await readFile(full);
    } catch {
      return null;
    }
  }

  return async function serve(pathname: string): Promise<Response> {
    let rel: string;
    try {
      rel = decodeURIComponent(pathname.replace(/^\/admin\/?/, ''));
    } catch {
      rel = '';
    }
    const ext = path.extname(rel);
    // Built files: hashed ones under assets/, and the few copied as they are (the icon).
    if ((rel.startsWith('assets/') || !rel.includes('/')) && TYPES[ext] && ext !== '.html') {
      const body = await file(rel);
      if (body) {
        return new Response(new Uint8Array(body), {
          headers: {
            'content-type': TYPES[ext],
            'cache-control': rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
            ...CONSOLE_HEADERS,
          },
        });
      }
      return new Response('not found', {
        status: 404,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_HEADERS },
      });
    }
    const index = await file('index.html');
    if (!index) {
      return Response.json(
        {
          error: { code: 'NOT_FOUND', message: 'the admin console is not built: run npm run console:build' },
        },
        { status: 404, headers: CONSOLE_HEADERS },
      );
    }
    return new Response(new Uint8Array(index), {
      headers: { 'content-type': TYPES['.html'] as string, 'cache-control': 'no-store', ...CONSOLE_HEADERS },
    });
  };
}
