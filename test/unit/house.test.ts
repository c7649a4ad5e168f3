import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layout the code promises in docs/architecture.md, held against its imports: folders import
 * one way (each floor only what lies below it), no two folders import each other, and hand-written
 * SQL stands only in the named places (`*.sql.ts` files and the `.sql` function files).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Floors, bottom first. A room imports its own floor's rooms or lower ones, never a higher one. */
const FLOORS: readonly (readonly string[])[] = [
  ['kit', 'src/errors.ts', 'src/paths.ts', 'src/config', 'src/db', 'src/http'],
  ['src/auth', 'src/metrics', 'src/plugins', 'src/saml'],
  ['src/graphql'],
  ['src/audit', 'src/connections'],
  ['src/users'],
  ['src/licenses', 'src/mapping'],
  ['src/provisioning', 'src/workers'],
  ['src/sign-in', 'src/scim'],
  ['src/orm.ts', 'src/schema.ts', 'src/app.ts', 'src/start.ts', 'src/server.ts', 'src/cluster.ts'],
];

function files(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return files(rel);
    return /\.(ts|mjs)$/.test(name) ? [rel] : [];
  });
}

const roomOf = (file: string): string | undefined =>
  FLOORS.flat().find((room) => file === room || file.startsWith(`${room}/`));
const floorOf = (room: string): number => FLOORS.findIndex((f) => f.includes(room));

const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function imports(file: string): string[] {
  const src = readFileSync(path.join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(SPECIFIER)) {
    const spec = (m[1] ?? m[2]) as string;
    out.push(path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, '.ts'));
  }
  return out;
}

const sources = [...files('src'), ...files('kit')];

describe('the house', () => {
  it('places every source file on a floor', () => {
    expect(sources.filter((f) => roomOf(f) === undefined)).toEqual([]);
  });

  it('imports one way: no room imports a room on a higher floor', () => {
    const upward: string[] = [];
    for (const file of sources) {
      const from = roomOf(file) as string;
      for (const target of imports(file)) {
        const to = roomOf(target);
        if (to && floorOf(to) > floorOf(from)) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no two folders that import each other', () => {
    const edges = new Set<string>();
    for (const file of sources) {
      const from = roomOf(file) as string;
      for (const target of imports(file)) {
        const to = roomOf(target);
        if (to && to !== from) edges.add(`${from} -> ${to}`);
      }
    }
    const mutual = [...edges].filter((e) => {
      const [a, b] = e.split(' -> ');
      return edges.has(`${b} -> ${a}`);
    });
    expect(mutual).toEqual([]);
  });

  it('keeps hand-written SQL in the named places (*.sql.ts, *.sql)', () => {
    const outside = files('src').filter(
      (f) =>
        !f.endsWith('.sql.ts') &&
        /\.execute\s*[<(]|getKnex\(|\.raw\(\s*['"`]\s*(select|insert|update|delete)/i.test(
          readFileSync(path.join(ROOT, f), 'utf8'),
        ),
    );
    expect(outside).toEqual([]);
  });
});
