import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

/**
 * package.json's `engines` is a promise to whoever installs jitprov: every installed dependency
 * must run on the Node versions it names (npm ci would otherwise warn with EBADENGINE, and the
 * dependency may rely on what only a later Node has).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function manifests(dir: string): { name: string; engines?: { node?: string } }[] {
  const out: { name: string; engines?: { node?: string } }[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      out.push(...manifests(path.join(dir, entry)));
      continue;
    }
    const pkg = path.join(dir, entry);
    try {
      out.push(JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')));
    } catch {
      continue;
    }
    out.push(...manifests(path.join(pkg, 'node_modules')));
  }
  return out;
}

describe('engines', () => {
  const ours = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node as string;
  const oldest = semver.minVersion(ours)?.version as string;

  it('names a Node version this machine runs', () => {
    expect(semver.satisfies(process.version, ours)).toBe(true);
  });

  it('holds for every installed package, on the oldest Node it admits and on this one', () => {
    const refused = manifests(path.join(ROOT, 'node_modules'))
      .filter((m) => m.engines?.node && semver.validRange(m.engines.node))
      .filter((m) => {
        const range = m.engines?.node as string;
        return !semver.satisfies(oldest, range) || !semver.satisfies(process.version, range);
      })
      .map((m) => `${m.name}: ${m.engines?.node}`);
    expect([...new Set(refused)]).toEqual([]);
  });
});
