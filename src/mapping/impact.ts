import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError, type ErrorCode } from '../errors.js';
import type { ContactField } from '../users/contact-fields.js';
import { type MappingOutcome, mapValues } from './engine.js';
import type { MappingRule } from './rule.js';
import { recentSamples, type Sample } from './samples.sql.js';
import {
  type TransformResult,
  type TransformRunner,
  type TransformSubject,
  transformItems,
  transformSpecs,
} from './transform-calls.js';

/**
 * What a mapping change would do to the people who signed in lately: each recent sign-in's
 * attributes (kept per connection, see sign-in-sample.entity.ts) are mapped with the mappings as
 * they are and as they would be, and the differences counted. Nothing is written.
 */

export interface ImpactRefusal {
  nameId: string;
  code: ErrorCode;
  message: string;
  column: string | null;
}

export interface MappingImpact {
  /** Recent sign-ins checked (the latest per person), and how many were kept in all. */
  sampled: number;
  available: number;
  /** People accepted with the mappings as they are and refused with the change. */
  wouldRefuse: number;
  /** The first of them, with why. */
  refusals: ImpactRefusal[];
  /** People refused now and accepted with the change. */
  wouldAccept: number;
  /** Per column, how many of the people accepted both ways would get another value. */
  changes: { column: string; people: number }[];
  /** Set when the check stopped at its time budget before every sample was checked. */
  partial: boolean;
}

/** What one sample maps to: refused (the first refusing failure), or the value of each column. */
interface SampleOutcome {
  refusal: ImpactRefusal | null;
  values: Map<string, string>;
}

const LISTED_REFUSALS = 20;
const SAMPLES_PER_JOB = 25;
const DEFAULT_BUDGET_MS = 5000;

function summarize(nameId: string, outcomes: readonly MappingOutcome[]): SampleOutcome {
  const refused = outcomes.find((o) => o.error && !o.fallback);
  if (refused?.error) {
    return {
      refusal: {
        nameId,
        code: refused.error.code,
        message: refused.error.message,
        column: refused.field.name ?? null,
      },
      values: new Map(),
    };
  }
  const values = new Map<string, string>();
  for (const o of outcomes) if (o.value !== null) values.set(o.field.name, JSON.stringify(o.value));
  return { refusal: null, values };
}

const subjectOf = (s: Sample): TransformSubject => ({ nameId: s.nameId, attributes: s.attributes });

/** Every sample mapped with `rules`, the transforms of many samples travelling as one job. */
async function mapSamples(
  runner: TransformRunner,
  rules: readonly MappingRule[],
  samples: readonly Sample[],
  custom: readonly ContactField[],
): Promise<SampleOutcome[]> {
  const { specs } = transformSpecs(rules);
  const out: SampleOutcome[] = [];
  for (let start = 0; start < samples.length; start += SAMPLES_PER_JOB) {
    const batch = samples.slice(start, start + SAMPLES_PER_JOB);
    const items = batch.flatMap((s) => transformItems(specs, subjectOf(s)));
    const results: TransformResult[] = items.length > 0 ? await runner.transform(items) : [];
    batch.forEach((s, k) => {
      const mine = results.slice(k * specs.length, (k + 1) * specs.length);
      out.push(summarize(s.nameId, mapValues(rules, subjectOf(s), mine, custom)));
    });
  }
  return out;
}

/** The impact of replacing `before` by `after`, on the given samples, within a time budget. */
export async function impactOn(
  runner: TransformRunner,
  before: readonly MappingRule[],
  after: readonly MappingRule[],
  samples: readonly Sample[],
  custom: readonly ContactField[] = [],
  budgetMs = DEFAULT_BUDGET_MS,
): Promise<MappingImpact> {
  const started = performance.now();
  const impact: MappingImpact = {
    sampled: 0,
    available: samples.length,
    wouldRefuse: 0,
    refusals: [],
    wouldAccept: 0,
    changes: [],
    partial: false,
  };
  const changed = new Map<string, number>();
  for (let start = 0; start < samples.length; start += SAMPLES_PER_JOB) {
    if (performance.now() - started > budgetMs) {
      impact.partial = true;
      break;
    }
    const batch = samples.slice(start, start + SAMPLES_PER_JOB);
    const [was, will] = await Promise.all([
      mapSamples(runner, before, batch, custom),
      mapSamples(runner, after, batch, custom),
    ]);
    batch.forEach((_, k) => {
      const a = was[k] as SampleOutcome;
      const b = will[k] as SampleOutcome;
      impact.sampled++;
      if (!a.refusal && b.refusal) {
        impact.wouldRefuse++;
        if (impact.refusals.length < LISTED_REFUSALS) impact.refusals.push(b.refusal);
      } else if (a.refusal && !b.refusal) {
        impact.wouldAccept++;
      } else if (!a.refusal && !b.refusal) {
        for (const column of new Set([...a.values.keys(), ...b.values.keys()])) {
          if (a.values.get(column) !== b.values.get(column))
            changed.set(column, (changed.get(column) ?? 0) + 1);
        }
      }
    });
  }
  impact.changes = [...changed]
    .map(([column, people]) => ({ column, people }))
    .sort((x, y) => y.people - x.people);
  return impact;
}

/** The impact of a change on a connection's recent sign-ins (at most its sample size). */
export async function connectionImpact(
  em: EntityManager,
  runner: TransformRunner,
  connection: { id: string; sampleSize: number },
  before: readonly MappingRule[],
  after: readonly MappingRule[],
  custom: readonly ContactField[] = [],
): Promise<MappingImpact> {
  const samples =
    connection.sampleSize > 0 ? await recentSamples(em, connection.id, connection.sampleSize) : [];
  return impactOn(runner, before, after, samples, custom);
}

/**
 * A mapping change that would refuse people who signed in fine, refused unless forced: the error
 * carries the impact, so the admin sees who and why before deciding.
 */
export function refuseUnlessForced(impact: MappingImpact, force: boolean): void {
  if (impact.wouldRefuse === 0 || force) return;
  const first = impact.refusals[0];
  throw new AppError(
    'MAPPING_WOULD_REFUSE',
    `this change would refuse ${impact.wouldRefuse} of the last ${impact.sampled} people who signed in` +
      (first ? ` (for example ${first.nameId}: ${first.code})` : '') +
      '; fix it, or save it anyway with force: true',
    { path: ['input', 'force'], impact },
  );
}

const DRY_RUN_SAMPLES = 20;

/**
 * A transform mapping tried before it is saved, under the workers' deadlines, on what it will meet:
 * the recent sign-ins' attributes and a sign-in without its attribute. One that runs past its
 * deadline on any of them, or fails on every one, is refused (MAPPING_DRY_RUN_FAILED) with the
 * path of its parameters; one that fails on some only is the impact check's to report.
 */
export async function dryRun(
  em: EntityManager,
  runner: TransformRunner,
  connectionId: string,
  rule: MappingRule,
  path: (string | number)[],
): Promise<void> {
  if (rule.kind !== 'TRANSFORM') return;
  const samples = (await recentSamples(em, connectionId, DRY_RUN_SAMPLES)).map(subjectOf);
  const absent: TransformSubject = { nameId: samples[0]?.nameId ?? 'dry-run@example.com', attributes: {} };
  const subjects = [...samples, absent];
  const { specs } = transformSpecs([rule]);
  const results = await runner.transform(subjects.flatMap((s) => transformItems(specs, s)));
  const describe = `the transform of the mapping to column "${rule.column}"`;
  const timeout = results.find((r) => !r.ok && r.error.code === 'TRANSFORM_TIMEOUT');
  if (timeout && !timeout.ok) {
    throw new AppError(
      'MAPPING_DRY_RUN_FAILED',
      `${describe} ran past its deadline when tried on typical input (${timeout.error.message})`,
      { path },
    );
  }
  const failures = results.filter((r) => !r.ok);
  if (failures.length === results.length) {
    const first = failures[0];
    throw new AppError(
      'MAPPING_DRY_RUN_FAILED',
      `${describe} failed on every input it was tried on (${subjects.length}: the recent sign-ins and one without the attribute)` +
        (first && !first.ok ? `: ${first.error.message}` : ''),
      { path },
    );
  }
}
