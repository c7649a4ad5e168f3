import { writeFileSync } from 'node:fs';
import { round } from './stats.js';

export type Verdict = 'PASS' | 'MISS';

/** What a phase cost the server and the client, besides its latencies. */
export interface ResourceUse {
  peakRssMiB: number;
  serverMainPct: number;
  serverCores: number;
  clientCores: number;
  postgresCores: number;
}

/** One line of the figures table. Null cells print as "-". */
export interface Row {
  section: string;
  label: string;
  /** Successful / sent. */
  ok: number | null;
  sent: number | null;
  perSecond: number | null;
  p50: number | null;
  p99: number | null;
  /** Throughput over Floor A's single-thread validations/s (assertion signing mode matched). */
  rateVsFloorA: number | null;
  /** p50 over the floor latency: Floor A p50 + Floor B p50 of the same kind of sign-in. */
  p50VsFloor: number | null;
  peakRssMiB: number | null;
  /** Server main thread busy, % of the phase's wall time. */
  serverMainPct: number | null;
  /** Server CPU, all threads, in cores. */
  serverCores: number | null;
  /** This bench process's CPU, in cores: the load generator must stay light. */
  clientCores: number | null;
  /** Every PostgreSQL process of the machine, in cores. */
  postgresCores: number | null;
  targets: { name: string; verdict: Verdict }[];
  note?: string;
}

export interface TargetLine {
  target: string;
  figure: string;
  verdict: Verdict | 'N/A';
}

/** RSS over the soak, sampled every 1000 sign-ins. */
export interface SoakFigures {
  samples: { completed: number; rssMiB: number }[];
  firstMiB: number;
  lastMiB: number;
  /** Last sample over first: the measure. */
  changePct: number;
  /** One sample lands anywhere in a GC cycle: the mean of the first and last quarter of samples. */
  quarterMeansMiB: [number, number];
  rangeMiB: [number, number];
}

/** Where a phase's sign-ins spent their time, from the server's Server-Timing (p50 / p99 per stage). */
export interface StageBreakdown {
  phase: string;
  client: { p50: number; p99: number };
  stages: Record<string, { p50: number; p99: number }>;
}

export interface Report {
  startedAt: string;
  durationSeconds: number;
  machine: { cpus: number; node: string; postgres: string };
  settings: Record<string, unknown>;
  rows: Row[];
  targets: TargetLine[];
  soak: SoakFigures | null;
  stages: StageBreakdown[];
  notes: string[];
}

const cell = (v: number | null, digits = 1): string =>
  v === null || Number.isNaN(v) ? '-' : round(v, digits).toFixed(digits);

/** A row of figures with no ratios or targets (floors; the base of the others). */
export function summaryRow(
  section: string,
  label: string,
  s: { n: number; perSecond: number; p50: number; p99: number } | null,
): Row {
  const has = s !== null && s.n > 0;
  return {
    section,
    label,
    ok: s?.n ?? null,
    sent: s?.n ?? null,
    perSecond: has ? s.perSecond : null,
    p50: has ? s.p50 : null,
    p99: has ? s.p99 : null,
    rateVsFloorA: null,
    p50VsFloor: null,
    peakRssMiB: null,
    serverMainPct: null,
    serverCores: null,
    clientCores: null,
    postgresCores: null,
    targets: [],
  };
}

export function formatReport(r: Report): string {
  const header = [
    'phase',
    'ok/sent',
    'req/s',
    'p50 ms',
    'p99 ms',
    'req/s ÷ A',
    'p50 ÷ floor',
    'peak RSS MiB',
    'srv main %',
    'srv cores',
    'client cores',
    'pg cores',
    'target',
  ];
  const lines: string[][] = [header];
  let section = '';
  const sectionStarts = new Set<number>();
  for (const row of r.rows) {
    if (row.section !== section) {
      section = row.section;
      sectionStarts.add(lines.length);
    }
    lines.push([
      `${row.section}: ${row.label}`,
      row.ok === null ? '-' : `${row.ok}/${row.sent}`,
      cell(row.perSecond),
      cell(row.p50, 2),
      cell(row.p99, 2),
      row.rateVsFloorA === null ? '-' : `${cell(row.rateVsFloorA, 2)}×`,
      row.p50VsFloor === null ? '-' : `${cell(row.p50VsFloor, 2)}×`,
      cell(row.peakRssMiB, 0),
      cell(row.serverMainPct, 0),
      cell(row.serverCores, 2),
      cell(row.clientCores, 2),
      cell(row.postgresCores, 2),
      [row.targets.map((t) => `${t.name} ${t.verdict}`).join('; '), row.note ?? '']
        .filter(Boolean)
        .join(' — '),
    ]);
  }
  const widths = header.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const render = (l: string[]) =>
    l
      .map((v, c) => (numeric.has(c) ? v.padStart(widths[c] ?? 0) : v.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out: string[] = [
    `jitprov bench — ${r.startedAt}, ${r.durationSeconds.toFixed(0)} s, ${r.machine.cpus} CPUs, node ${r.machine.node}, ${r.machine.postgres}`,
    '',
  ];
  lines.forEach((l, i) => {
    if (i === 1 || sectionStarts.has(i)) out.push(rule);
    out.push(render(l));
  });
  out.push(rule, '', 'Targets (issue 6):');
  const tw = Math.max(...r.targets.map((t) => t.target.length));
  for (const t of r.targets) out.push(`  ${t.target.padEnd(tw)}  ${t.verdict.padEnd(4)}  ${t.figure}`);
  out.push(...formatStages(r.stages));
  if (r.soak) {
    out.push(
      '',
      `RSS soak (every 1000 sign-ins, MiB): ${r.soak.samples.map((s) => s.rssMiB.toFixed(0)).join(' ')}`,
    );
  }
  if (r.notes.length > 0) out.push('', ...r.notes.map((n) => `note: ${n}`));
  return `${out.join('\n')}\n`;
}

export function writeJson(file: string, r: Report): void {
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
}

/**
 * Server-side stages per sign-in phase: the client's latency, the server's whole ACS, and within it
 * validation (the worker job's round trip but its transforms), transforms (in the same job) and the
 * database.
 */
function formatStages(stages: StageBreakdown[]): string[] {
  if (stages.length === 0) return [];
  const names = ['acs', 'validation', 'transforms', 'db'];
  const pair = (s: { p50: number; p99: number } | undefined) => (s ? `${cell(s.p50)} / ${cell(s.p99)}` : '-');
  const lines = [
    ['phase (p50 / p99 ms)', 'client', ...names],
    ...stages.map((b) => [b.phase, pair(b.client), ...names.map((n) => pair(b.stages[n]))]),
  ];
  const widths = lines[0]?.map((_, c) => Math.max(...lines.map((l) => (l[c] ?? '').length))) ?? [];
  const render = (l: string[]) =>
    l.map((v, c) => (c === 0 ? v.padEnd(widths[c] ?? 0) : v.padStart(widths[c] ?? 0))).join('  ');
  return [
    '',
    "Where a sign-in's time goes (server's Server-Timing: acs = the whole ACS, validation = the SAML",
    'worker job (round trip) but its transforms, transforms = run in that same job, db = the provisioning\n' +
      'transaction):',
    ...lines.map(render),
  ];
}
