import type { FloorAResult } from './floor-a.js';
import type { FloorBResult } from './floor-b.js';
import type { LoadResult } from './load.js';
import type { Phase } from './plan.js';
import type { Report, ResourceUse, Row, TargetLine, Verdict } from './report.js';

/** The targets of issue 6. */
export const TARGETS = {
  rateVsFloorA: 1.2,
  p99AtC8Ms: 50,
  /** p99 of sign-ins arriving at half the capacity (open loop), from the scheduled send. */
  openLoopP99Ms: 50,
  contactsP50Ms: 20,
  rssChangePct: 10,
} as const;

const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

export interface Floors {
  a: Record<Phase['mode'], FloorAResult>;
  b: FloorBResult;
}

/** A jitprov sign-in phase as a table row, with its ratios to the floors of the same run. */
export function signInRow(
  phase: Phase,
  r: LoadResult & ResourceUse,
  floors: Floors,
  limitSeconds: number,
): Row {
  const fa = floors.a[phase.mode];
  const rate = fa.perSecond > 0 ? r.perSecond / fa.perSecond : null;
  const fb = phase.created === false ? floors.b.returning : floors.b.first;
  const targets: Row['targets'] = [];
  if (rate !== null && phase.created !== null) {
    targets.push({ name: `≥${TARGETS.rateVsFloorA}×A`, verdict: verdict(rate >= TARGETS.rateVsFloorA) });
  }
  if (phase.concurrency === 8 && phase.created !== null && r.ok > 0) {
    targets.push({ name: `p99≤${TARGETS.p99AtC8Ms}ms`, verdict: verdict(r.p99 <= TARGETS.p99AtC8Ms) });
  }
  const notes = [
    r.truncated ? `stopped at the ${limitSeconds} s limit` : '',
    r.failed > 0 ? `${r.failed} failed, first: ${r.firstFailure}` : '',
  ].filter(Boolean);
  return {
    section: 'jitprov ACS',
    label: phase.name,
    ok: r.ok,
    sent: r.sent,
    perSecond: r.perSecond,
    p50: r.ok > 0 ? r.p50 : null,
    p99: r.ok > 0 ? r.p99 : null,
    rateVsFloorA: rate,
    // A mixed phase has no single floor latency to compare with.
    p50VsFloor: r.ok > 0 && fa.n > 0 && phase.created !== null ? r.p50 / (fa.p50 + fb.p50) : null,
    peakRssMiB: r.peakRssMiB,
    serverMainPct: r.serverMainPct,
    serverCores: r.serverCores,
    clientCores: r.clientCores,
    postgresCores: r.postgresCores,
    targets,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
  };
}

export function targetLines(
  signIns: { phase: Phase; row: Row }[],
  floorA: FloorAResult,
  contacts: Row,
  soak: Report['soak'],
  settings: { contacts: number; soak: number },
): TargetLine[] {
  const lines: TargetLine[] = [];
  const ofKind = (created: boolean) =>
    signIns.filter((s) => s.phase.mode === 'assertion' && s.phase.created === created);
  for (const created of [true, false]) {
    const best = ofKind(created).reduce<{ phase: Phase; row: Row } | null>(
      (b, s) => (!b || (s.row.perSecond ?? 0) > (b.row.perSecond ?? 0) ? s : b),
      null,
    );
    const rate = best?.row.rateVsFloorA ?? null;
    lines.push({
      target: `${created ? 'first' : 'returning'} sign-ins ≥ ${TARGETS.rateVsFloorA}× Floor A (best level)`,
      figure:
        best && rate !== null
          ? `${(best.row.perSecond ?? 0).toFixed(1)}/s at c=${best.phase.concurrency} = ${rate.toFixed(2)}× ` +
            `Floor A's ${floorA.perSecond.toFixed(1)}/s`
          : '-',
      verdict: rate === null ? 'N/A' : verdict(rate >= TARGETS.rateVsFloorA),
    });
  }
  for (const created of [true, false]) {
    const row = ofKind(created).find((s) => s.phase.concurrency === 8)?.row;
    lines.push({
      target: `p99 of a ${created ? 'first' : 'returning'} sign-in at c=8 ≤ ${TARGETS.p99AtC8Ms} ms`,
      figure: row?.p99 != null ? `${row.p99.toFixed(1)} ms` : '-',
      verdict: row?.p99 != null ? verdict(row.p99 <= TARGETS.p99AtC8Ms) : 'N/A',
    });
  }
  lines.push({
    target: `contacts page p50 ≤ ${TARGETS.contactsP50Ms} ms at ${settings.contacts / 1000}k contacts`,
    figure: contacts.p50 === null ? (contacts.note ?? '-') : `${contacts.p50.toFixed(1)} ms`,
    verdict: contacts.p50 === null ? 'N/A' : verdict(contacts.p50 <= TARGETS.contactsP50Ms),
  });
  const measured = soak !== null && soak.samples.length >= 2;
  lines.push({
    target: `RSS within ${TARGETS.rssChangePct}% over ${settings.soak} sign-ins`,
    figure: soak
      ? `${soak.firstMiB.toFixed(0)} → ${soak.lastMiB.toFixed(0)} MiB (${signed(soak.changePct)}%) ` +
        `from ${soak.samples[0]?.completed ?? '-'} to ${soak.samples.at(-1)?.completed ?? '-'} sign-ins; ` +
        `first/last quarter mean ${soak.quarterMeansMiB[0].toFixed(0)} → ${soak.quarterMeansMiB[1].toFixed(0)} MiB ` +
        `(${signed(pct(soak.quarterMeansMiB))}%), range ${soak.rangeMiB[0].toFixed(0)}–${soak.rangeMiB[1].toFixed(0)} MiB`
      : 'soak skipped (BENCH_SOAK=0)',
    verdict: measured ? verdict(Math.abs(soak.changePct) <= TARGETS.rssChangePct) : 'N/A',
  });
  return lines;
}

const pct = ([from, to]: [number, number]): number => ((to - from) / from) * 100;

export const signed = (v: number, digits = 1): string => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
