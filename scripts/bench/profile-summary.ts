/**
 * Top self-time functions and packages of V8 CPU profiles (`node --cpu-prof` output):
 *
 *   node --import tsx scripts/bench/profile-summary.ts scripts/bench/profiles [top]
 *
 * A directory summarises every profile in it (the server's main thread and its workers each write
 * one), largest first.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// Not work: the thread waiting for something to do.
const IDLE = new Set(['(idle)', '(program)']);

/** Where a function lives: an npm package, a project folder, node's internals, or V8 itself. */
function owner(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const m = /\/(src|plugins|scripts|migrations)\/(.*)$/.exec(url);
  return m ? `${m[1]}/${(m[2] ?? '').split('/')[0]}` : url;
}

function label(frame: CallFrame): string {
  const where = frame.url
    ? `${frame.url.replace(/^file:\/\/.*?\/(node_modules|src|plugins)\//, '$1/')}:${frame.lineNumber + 1}`
    : '';
  return `${frame.functionName || '(anonymous)'} ${where}`.trim();
}

function summarise(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const fns = new Map<string, number>();
  const owners = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (IDLE.has(frame.functionName)) {
      idle += us;
      continue;
    }
    busy += us;
    fns.set(label(frame), (fns.get(label(frame)) ?? 0) + us);
    owners.set(owner(frame), (owners.get(owner(frame)) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  process.stdout.write(
    `\n${path.basename(file)}: ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle\n` +
      '  self time by owner:\n',
  );
  for (const [name, us] of [...owners].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    process.stdout.write(`    ${pct(us)} ${ms(us)}  ${name}\n`);
  }
  process.stdout.write('  top self-time functions:\n');
  for (const [name, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`    ${pct(us)} ${ms(us)}  ${name}\n`);
  }
  // Self time says which library burns the CPU; inclusive time of our own functions and of
  // node-saml's entry points says which step of a sign-in asks for it.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame || !INCLUSIVE.test(frame.url) || !frame.functionName) continue;
      seen.add(label(frame));
    }
    for (const l of seen) inclusive.set(l, (inclusive.get(l) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  process.stdout.write('  inclusive time, project code and node-saml:\n');
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`    ${pct(us)} ${ms(us)}  ${name}\n`);
  }
}

const INCLUSIVE = /\/(src|plugins)\/|@node-saml\/node-saml\/lib\/saml\.js/;

const target = process.argv[2] ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'profiles');
const top = Number(process.argv[3] ?? 25);
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(target, f))
      .sort((a, b) => statSync(b).size - statSync(a).size)
  : [target];
for (const f of files) summarise(f, top);
