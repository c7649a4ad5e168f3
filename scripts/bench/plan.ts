import type { IdpKeyPair } from '../demo-idp/index.js';
import { type Person, person } from './people.js';
import { formBody, type SignJob, type SignMode, signAll } from './signing.js';
import { progress } from './stats.js';

/** One timed (or warm-up) run of sign-ins: its pre-signed request bodies and what each must do. */
export interface Phase {
  name: string;
  mode: SignMode;
  /** Every sign-in provisions a new user (true), signs in an existing one (false), or both (null). */
  created: boolean | null;
  concurrency: number;
  jobs: SignJob[];
  bodies: Buffer[];
}

export interface Plan {
  warmup: Phase[];
  /** First sign-ins per concurrency level, then returning ones, assertion signed (Entra's default). */
  first: Phase[];
  returning: Phase[];
  /** The same at c=8 with Response and assertion signed (connection with wantResponseSigned). */
  bothSigned: Phase[];
  /** First and returning sign-ins at c=8 through a connection with license and role rules. */
  rules: Phase[];
  /** First and returning sign-ins at c=8 against `npm run start:cluster` (empty when not run). */
  cluster: Phase[];
  /**
   * First and returning sign-ins arriving at a fixed rate (open loop; the rate is set in the run,
   * from the capacity measured: `concurrency` is unused).
   */
  open: Phase[];
  soak: Phase;
  all: Phase[];
}

export interface PlanOptions {
  runId: string;
  requests: number;
  levels: number[];
  warmup: number;
  soak: number;
  soakConcurrency: number;
  /** Whether the cluster phases are planned (BENCH_CLUSTER > 0). */
  cluster: boolean;
  /**
   * Entra tenant ids of the connections: assertion signed, response and assertion signed, and
   * assertion signed with license and role rules.
   */
  tenants: { assertion: string; both: string; rules: string };
}

export const issuerOf = (tenant: string): string => `https://sts.windows.net/${tenant}/`;

/**
 * Who signs in, when: fresh people for every first sign-in phase, returning sign-ins of people
 * the first phases created (each with a fresh assertion: replays are refused), and a soak of half
 * new, half returning people.
 */
export function buildPlan(o: PlanOptions): Plan {
  const people = (prefix: string, count: number, tenant: string) =>
    Array.from({ length: count }, (_, i) => person(`${prefix}-${o.runId}`, i, tenant));
  const phase = (
    name: string,
    mode: SignMode,
    created: boolean | null,
    c: number,
    who: Person[],
    tenant = mode === 'assertion' ? o.tenants.assertion : o.tenants.both,
  ): Phase => {
    const issuer = issuerOf(tenant);
    return {
      name,
      mode,
      created,
      concurrency: c,
      jobs: who.map((p) => ({ person: p, issuer, sign: mode })),
      bodies: [],
    };
  };
  const n = o.requests;
  const warm = people('warm', o.warmup, o.tenants.assertion);
  const firstPeople = o.levels.map((c) => people(`first-c${c}`, n, o.tenants.assertion));
  const created = firstPeople.flat();
  const existing = (offset: number, count: number) =>
    Array.from({ length: count }, (_, k) => created[(offset + k) % created.length] as Person);
  const both = people('both', n, o.tenants.both);
  const ruled = people('rules', n, o.tenants.rules);
  const clustered = people('cluster', n, o.tenants.assertion);
  const opened = people('open', n, o.tenants.assertion);

  const plan: Omit<Plan, 'all'> = {
    warmup: [
      phase('warm-up, first', 'assertion', true, 8, warm),
      phase('warm-up, returning', 'assertion', false, 8, warm),
    ],
    first: o.levels.map((c, i) => phase(`first, c=${c}`, 'assertion', true, c, firstPeople[i] as Person[])),
    returning: o.levels.map((c, i) => phase(`returning, c=${c}`, 'assertion', false, c, existing(i * n, n))),
    bothSigned: [
      phase('first, resp+assertion signed, c=8', 'response-and-assertion', true, 8, both),
      phase('returning, resp+assertion signed, c=8', 'response-and-assertion', false, 8, both),
    ],
    rules: [
      phase('first, license + role rules, c=8', 'assertion', true, 8, ruled, o.tenants.rules),
      phase('returning, license + role rules, c=8', 'assertion', false, 8, ruled, o.tenants.rules),
    ],
    cluster: o.cluster
      ? [
          phase('first, cluster, c=8', 'assertion', true, 8, clustered),
          phase('returning, cluster, c=8', 'assertion', false, 8, clustered),
        ]
      : [],
    open: [
      phase('first, open loop at 50% of capacity', 'assertion', true, 0, opened),
      phase('returning, open loop at 50% of capacity', 'assertion', false, 0, existing(2 * n, n)),
    ],
    soak: phase(
      'soak',
      'assertion',
      null,
      o.soakConcurrency,
      Array.from({ length: o.soak }, (_, i) =>
        i % 2 === 0
          ? person(`soak-${o.runId}`, i, o.tenants.assertion)
          : (created[i % created.length] as Person),
      ),
    ),
  };
  return {
    ...plan,
    all: [
      ...plan.warmup,
      ...plan.first,
      ...plan.returning,
      ...plan.bothSigned,
      ...plan.rules,
      ...plan.cluster,
      ...plan.open,
      plan.soak,
    ],
  };
}

export interface SignedPlan {
  count: number;
  seconds: number;
  /** The base64 responses of the first `floorCount` sign-ins of each signing mode, for Floor A. */
  floor: Record<SignMode, string[]>;
}

/** Signs every response of the plan (worker threads), leaving each phase its encoded bodies. */
export async function signPlan(
  plan: Plan,
  context: { key: IdpKeyPair; audience: string; destination: string },
  threads: number,
  floorCount: number,
): Promise<SignedPlan> {
  const jobs = plan.all.flatMap((p) => p.jobs);
  progress(`signing ${jobs.length} Entra-shaped responses on ${threads} worker threads`);
  const t0 = performance.now();
  let shown = 0;
  const signed = await signAll(context, jobs, threads, (done, total) => {
    if (done - shown >= total / 10 || done === total) {
      shown = done;
      progress(`  signed ${done}/${total}`);
    }
  });
  const floorSources = new Map<Phase, SignMode>([
    ...plan.first.map((p) => [p, 'assertion'] as const),
    [plan.bothSigned[0] as Phase, 'response-and-assertion'],
  ]);
  const floor: Record<SignMode, string[]> = { assertion: [], 'response-and-assertion': [] };
  let k = 0;
  for (const p of plan.all) {
    const mode = floorSources.get(p);
    for (let i = 0; i < p.jobs.length; i++) {
      const s = signed[k++] as string;
      p.bodies.push(formBody(s));
      if (mode && floor[mode].length < floorCount) floor[mode].push(s);
    }
  }
  return { count: jobs.length, seconds: (performance.now() - t0) / 1000, floor };
}
