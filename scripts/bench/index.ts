/**
 * `npm run bench`: sign-ins per second against the floor, in one run (issue 6). Prints the figures
 * table to stdout and writes it as JSON to scripts/bench/last-run.json; progress goes to stderr.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL   server the bench database is created on (postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_REQUESTS       sign-ins per phase and concurrency level (400)
 *   BENCH_SOAK           sign-ins in the RSS soak (20000; 0 skips it)
 *   BENCH_CONTACTS       contacts seeded for the GraphQL page (100000)
 *   BENCH_PHASE_SECONDS  time limit of one sign-in phase (90)
 *   BENCH_SOAK_SECONDS   time limit of the soak (600)
 *   BENCH_CPU_PROF=1     run the server under `node --cpu-prof` (profiles in scripts/bench/profiles/;
 *                        summarise them with scripts/bench/profile-summary.ts)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEntraMetadata, generateIdpKeyPair } from '../../src/demo-idp/index.js';
import { addMappings, adminApi, contactsQuery, createConnection, createLicense } from './admin.js';
import { createBenchDatabase, migrate } from './database.js';
import { floorA } from './floor-a.js';
import { floorB } from './floor-b.js';
import { expectCreated, type LoadResult, type LoadTarget, runLoad } from './load.js';
import { buildPlan, issuerOf, type Phase, signPlan } from './plan.js';
import { formatReport, type Report, type Row, writeJson } from './report.js';
import { seedContacts } from './seed.js';
import { freePort, type RunningServer, rssSampler, startServer } from './server.js';
import { progress } from './stats.js';
import { signed, signInRow, TARGETS, targetLines } from './targets.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const v = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number, got ${raw}`);
  return v;
};

const settings = {
  baseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  requests: Math.max(50, int('BENCH_REQUESTS', 400)),
  soak: int('BENCH_SOAK', 20_000),
  contacts: Math.max(50, int('BENCH_CONTACTS', 100_000)),
  levels: [1, 8, 32],
  phaseSeconds: int('BENCH_PHASE_SECONDS', 90),
  soakSeconds: int('BENCH_SOAK_SECONDS', 600),
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  warmup: 100,
  floorA: { warmup: 50, timed: 300 },
  floorB: { warmup: 50, timed: 500 },
  contactQueries: { warmup: 20, timed: 200 },
  soakConcurrency: 8,
  soakSampleEvery: 1000,
};

type Cleanup = () => Promise<void>;

async function main(): Promise<void> {
  const cleanups: Cleanup[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      await fn().catch((e: unknown) => progress(`cleanup failed: ${e instanceof Error ? e.message : e}`));
    }
  };
  // Ctrl-C must not leave a server running or a database behind.
  process.once('SIGINT', () => {
    progress('interrupted');
    void cleanup().then(() => process.exit(130));
  });
  try {
    const report = await run(cleanups);
    await cleanup();
    process.stdout.write(formatReport(report));
    const jsonFile = path.join(HERE, 'last-run.json');
    writeJson(jsonFile, report);
    progress(`wrote ${path.relative(REPO, jsonFile)}`);
  } finally {
    await cleanup();
  }
}

async function run(cleanups: Cleanup[]): Promise<Report> {
  const started = Date.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const runId = randomBytes(4).toString('hex');
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const spEntityId = `${publicUrl}/saml/metadata`;
  const acsUrl = `${publicUrl}/saml/acs`;
  const adminToken = `bench-${randomBytes(24).toString('hex')}`;
  const notes: string[] = [];
  if (loadAtStart > 1) {
    notes.push(`load average was ${loadAtStart.toFixed(1)} at the start: other processes share these cores`);
  }

  // --- the IdP, and every response signed before anything is timed -------------------------------
  progress('generating the IdP key');
  const key = await generateIdpKeyPair();
  const tenants = { assertion: randomUUID(), both: randomUUID() };
  const plan = buildPlan({
    runId,
    requests: settings.requests,
    levels: settings.levels,
    warmup: settings.warmup,
    soak: settings.soak,
    soakConcurrency: settings.soakConcurrency,
    tenants,
  });
  const floorCount = settings.floorA.warmup + settings.floorA.timed;
  const threads = availableParallelism();
  const signing = await signPlan(
    plan,
    { key, audience: spEntityId, destination: acsUrl },
    threads,
    floorCount,
  );

  // --- Floor A: node-saml alone, one thread -----------------------------------------------------
  const floorAOf = async (mode: Phase['mode']) => {
    progress(`Floor A: node-saml validatePostResponseAsync, ${mode} signed`);
    const responses = signing.floor[mode];
    const warmup = Math.min(settings.floorA.warmup, Math.floor(responses.length / 5));
    const spec = { certPem: key.certPem, spEntityId, acsUrl, wantResponseSigned: mode !== 'assertion' };
    return floorA(spec, responses, warmup);
  };
  const floorsA = {
    assertion: await floorAOf('assertion'),
    'response-and-assertion': await floorAOf('response-and-assertion'),
  };

  // --- the database and Floor B -----------------------------------------------------------------
  const db = await createBenchDatabase(settings.baseUrl, `jitprov_bench_${runId}`);
  progress(`created database ${db.name}`);
  cleanups.push(async () => {
    progress(`dropping database ${db.name}`);
    await db.drop();
  });
  await migrate(REPO, db.url);
  progress('Floor B: the provisioning transaction through plain pg');
  const fb = await floorB(db.url, settings.floorB.timed, settings.floorB.warmup);
  const floors = { a: floorsA, b: fb };

  // --- the server, set up through its admin API -------------------------------------------------
  const dataDir = mkdtempSync(path.join(tmpdir(), 'jitprov-bench-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const cpuProfDir = settings.cpuProf ? path.join(HERE, 'profiles') : null;
  if (cpuProfDir) mkdirSync(cpuProfDir, { recursive: true });
  progress(`starting the server (NODE_ENV=production) on ${publicUrl}`);
  const server: RunningServer = await startServer({
    repoRoot: REPO,
    databaseUrl: db.url,
    adminToken,
    port,
    publicUrl,
    dataDir,
    logFile: path.join(HERE, 'server.log'),
    cpuProfDir,
  });
  cleanups.push(async () => {
    progress('stopping the server');
    await server.stop();
  });
  const idleRss = server.rssMiB();

  progress('creating 2 connections, 10 mappings each and 2 licenses through the admin API');
  const api = adminApi(port, adminToken);
  for (const [mode, tenant] of Object.entries(tenants)) {
    const metadataXml = buildEntraMetadata({
      entityId: issuerOf(tenant),
      ssoUrl: `https://login.microsoftonline.com/${tenant}/saml2`,
      certPems: [key.certPem],
    });
    const id = await createConnection(api, `Bench Entra (${mode} signed)`, metadataXml, mode === 'both');
    await addMappings(api, id);
  }
  await createLicense(api, 'CRM', null);
  await createLicense(api, 'Analytics', 1_000_000);

  const sampler = rssSampler(() => server.rssMiB());
  cleanups.push(async () => sampler.stop());
  const acs: LoadTarget = {
    port,
    path: '/saml/acs',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
  };
  const runPhase = async (p: Phase): Promise<LoadResult & { peakRssMiB: number }> => {
    sampler.reset();
    const r = await runLoad(acs, p.bodies, {
      concurrency: p.concurrency,
      timeLimitMs: settings.phaseSeconds * 1000,
      ...(p.created === null ? {} : { check: expectCreated(p.created) }),
    });
    p.bodies = [];
    const peakRssMiB = sampler.peak();
    progress(
      `  ${p.name}: ${r.ok}/${r.sent} ok, ${r.perSecond.toFixed(1)}/s, p50 ${r.p50.toFixed(1)} ms, ` +
        `p99 ${r.p99.toFixed(1)} ms, peak RSS ${peakRssMiB.toFixed(0)} MiB`,
    );
    if (r.firstFailure) progress(`    first failure: ${r.firstFailure}`);
    return { ...r, peakRssMiB };
  };

  // --- jitprov end to end -----------------------------------------------------------------------
  progress('warm-up');
  for (const p of plan.warmup) await runPhase(p);
  progress('jitprov end to end: POST /saml/acs');
  const signIns: { phase: Phase; row: Row }[] = [];
  for (const p of [...plan.first, ...plan.returning, ...plan.bothSigned]) {
    signIns.push({ phase: p, row: signInRow(p, await runPhase(p), floors, settings.phaseSeconds) });
  }

  // --- GraphQL contacts page --------------------------------------------------------------------
  progress(`seeding ${settings.contacts} users with contact and license grants`);
  const seedMs = await seedContacts(db.url, settings.contacts);
  progress(`  seeded in ${(seedMs / 1000).toFixed(1)} s`);
  sampler.reset();
  const contacts = await contactsPage(port, adminToken);
  contacts.peakRssMiB = sampler.peak();

  // --- RSS soak ---------------------------------------------------------------------------------
  let soak: Report['soak'] = null;
  let soakRow: Row | null = null;
  if (settings.soak > 0) {
    progress(
      `RSS soak: ${settings.soak} sign-ins (half first, half returning) at c=${settings.soakConcurrency}`,
    );
    const samples: { completed: number; rssMiB: number }[] = [];
    sampler.reset();
    const r = await runLoad(acs, plan.soak.bodies, {
      concurrency: settings.soakConcurrency,
      timeLimitMs: settings.soakSeconds * 1000,
      onDone: (completed) => {
        if (completed % settings.soakSampleEvery !== 0) return;
        samples.push({ completed, rssMiB: server.rssMiB() });
        progress(`  ${completed} sign-ins, RSS ${samples.at(-1)?.rssMiB.toFixed(0)} MiB`);
      },
    });
    plan.soak.bodies = [];
    const firstMiB = samples[0]?.rssMiB ?? Number.NaN;
    const lastMiB = samples.at(-1)?.rssMiB ?? Number.NaN;
    soak = { samples, firstMiB, lastMiB, changePct: ((lastMiB - firstMiB) / firstMiB) * 100 };
    const rssOk = samples.length >= 2 && Math.abs(soak.changePct) <= TARGETS.rssChangePct;
    soakRow = {
      ...signInRow(plan.soak, { ...r, peakRssMiB: sampler.peak() }, floors, settings.soakSeconds),
      section: 'Soak',
      label: `${r.sent} mixed sign-ins, c=${settings.soakConcurrency}`,
      targets:
        samples.length >= 2
          ? [{ name: `RSS ±${TARGETS.rssChangePct}%`, verdict: rssOk ? 'PASS' : 'MISS' }]
          : [],
    };
    const rssNote = `RSS ${firstMiB.toFixed(0)} → ${lastMiB.toFixed(0)} MiB (${signed(soak.changePct)}%)`;
    soakRow.note = soakRow.note ? `${rssNote}; ${soakRow.note}` : rssNote;
  }
  await server.stop();

  const floorRows: Row[] = [
    floorRow('Floor A', 'node-saml, assertion signed (1 thread)', floorsA.assertion),
    floorRow('Floor A', 'node-saml, response+assertion signed (1 thread)', floorsA['response-and-assertion']),
    floorRow('Floor B', 'provisioning tx, first sign-in (plain pg)', fb.first),
    floorRow('Floor B', 'provisioning tx, returning sign-in (plain pg)', fb.returning),
  ];
  notes.push(
    `${signing.count} responses signed before timing (${signing.seconds.toFixed(0)} s); server idle RSS ${idleRss.toFixed(0)} MiB`,
    'req/s ÷ A: throughput over Floor A single-thread validations/s of the same signing mode; ' +
      'p50 ÷ floor: p50 over (Floor A p50 + Floor B p50) of the same kind of sign-in',
    `sign-in phases: ${settings.requests} pre-signed responses each (closed loop, keep-alive), after ` +
      `${settings.warmup} first + ${settings.warmup} returning warm-up sign-ins; ` +
      '10 mappings (3 TRANSFORM: email-from-upn, value-map, expression), 2 licenses',
    `load average at the end: ${(loadavg()[0] ?? 0).toFixed(1)}`,
  );
  if (cpuProfDir) notes.push(`server CPU profiles in ${path.relative(REPO, cpuProfDir)}/`);
  return {
    startedAt: new Date(started).toISOString(),
    durationSeconds: (Date.now() - started) / 1000,
    machine: { cpus: availableParallelism(), node: process.version, postgres: db.serverVersion },
    settings: { ...settings, baseUrl: redact(settings.baseUrl) },
    rows: [...floorRows, ...signIns.map((s) => s.row), contacts, ...(soakRow ? [soakRow] : [])],
    targets: targetLines(signIns, floorsA.assertion, contacts, soak, settings),
    soak,
    notes,
  };
}

/** `contacts(first: 50)` with user and licenses, one query at a time, as the schema has it now. */
async function contactsPage(port: number, adminToken: string): Promise<Row> {
  const label = `contacts(first: 50) at ${settings.contacts / 1000}k`;
  const q = contactsQuery(path.join(REPO, 'schema.graphql'));
  if ('missing' in q) {
    progress(`  ${q.missing}`);
    return { ...floorRow('GraphQL', label, null), note: q.missing };
  }
  progress(`  ${q.query}`);
  const target: LoadTarget = {
    port,
    path: '/graphql',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${adminToken}`,
    },
  };
  const body = Buffer.from(JSON.stringify({ query: q.query }));
  // Parsed after the clock is read: a page must come back whole, 50 contacts and no errors.
  const check = (payload: Buffer) => {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      data?: { contacts?: unknown };
      errors?: unknown;
    };
    const page = parsed.data?.contacts as { edges?: unknown[] } | unknown[] | undefined;
    return !parsed.errors && (Array.isArray(page) ? page.length : (page?.edges?.length ?? 0)) === 50;
  };
  const bodies = (count: number) => Array.from({ length: count }, () => body);
  const limit = settings.phaseSeconds * 1000;
  await runLoad(target, bodies(settings.contactQueries.warmup), {
    concurrency: 1,
    timeLimitMs: limit,
    check,
  });
  const r = await runLoad(target, bodies(settings.contactQueries.timed), {
    concurrency: 1,
    timeLimitMs: limit,
    check,
  });
  progress(`  contacts page: ${r.ok}/${r.sent} ok, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  return {
    ...floorRow('GraphQL', label, null),
    ok: r.ok,
    sent: r.sent,
    perSecond: r.perSecond,
    p50: r.ok > 0 ? r.p50 : null,
    p99: r.ok > 0 ? r.p99 : null,
    targets:
      r.ok > 0
        ? [
            {
              name: `p50≤${TARGETS.contactsP50Ms}ms`,
              verdict: r.p50 <= TARGETS.contactsP50Ms ? 'PASS' : 'MISS',
            },
          ]
        : [],
    ...(r.failed > 0 ? { note: `${r.failed} failed, first: ${r.firstFailure}` } : {}),
  };
}

function floorRow(
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
    targets: [],
  };
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
