import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { DbPoolStats } from '../db/pool.sql.js';
import { joinClusterMetrics } from './cluster.js';
import type { SignInObservation, SignInRecorder } from './recorder.js';
import { connectionCertificates, licenseSeats } from './scrape.sql.js';

/** The worker pool's counters, as src/workers reports them (structural: metrics sit below workers). */
export interface WorkerPoolStats {
  workers: number;
  starting: number;
  busy: number;
  queued: number;
  restarts: number;
  deadlineStops: number;
  crashes: { validation: number; transforms: number };
}

export interface MetricsSources {
  /** Scrape-time reads of licenses and connections (each scrape reads them fresh). */
  orm: MikroORM;
  workers: () => WorkerPoolStats;
  dbPool: () => DbPoolStats | null;
  /** Process metrics (CPU, memory, event loop, GC) beside ours; default true. */
  processMetrics?: boolean;
  /** Longest a scrape waits for the database before it reports it down; default 2000 ms. */
  dbReadTimeoutMs?: number;
}

/** Seconds; the ACS takes ~1–20 ms when healthy, up to the validation deadline when not. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Client-chosen operation names are bounded: at most this many distinct ones, then `other`. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** Counter whose value is read from a source at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): Counter<string> {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The service's Prometheus metrics, one registry per app (tests run several apps in one process).
 * Sign-ins and GraphQL requests are counted as they happen; pools, seats and certificates are read
 * when scraped, so a scrape always shows the database as it is.
 */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  if (sources.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const signIns = new Counter({
    name: 'jitprov_sign_ins_total',
    help: 'SAML sign-ins by road (via), outcome (created, signed_in, refused) and refusal code',
    labelNames: ['via', 'outcome', 'code'] as const,
    registers,
  });
  const acsDuration = new Histogram({
    name: 'jitprov_acs_duration_seconds',
    help: 'ACS sign-in latency by stage, as in Server-Timing: validation, transforms, db, and acs (the whole sign-in); refused sign-ins observe acs only',
    labelNames: ['via', 'stage', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const graphqlRequests = new Counter({
    name: 'jitprov_graphql_requests_total',
    help: 'GraphQL requests by operation name, operation type and HTTP status',
    labelNames: ['operation', 'type', 'status'] as const,
    registers,
  });
  const graphqlDuration = new Histogram({
    name: 'jitprov_graphql_request_duration_seconds',
    help: 'GraphQL request latency by operation name and operation type',
    labelNames: ['operation', 'type'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });

  new Gauge({
    name: 'jitprov_db_pool_connections',
    help: 'Database pool connections by state (in_use, idle)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const s = sources.dbPool();
      this.set({ state: 'in_use' }, s?.inUse ?? 0);
      this.set({ state: 'idle' }, s?.idle ?? 0);
    },
  });
  new Gauge({
    name: 'jitprov_db_pool_waiting',
    help: 'Callers waiting for a database connection',
    registers,
    collect() {
      this.set(sources.dbPool()?.waiting ?? 0);
    },
  });
  new Gauge({
    name: 'jitprov_db_pool_max',
    help: 'Database pool size (DB_POOL_SIZE)',
    registers,
    collect() {
      this.set(sources.dbPool()?.max ?? 0);
    },
  });

  new Gauge({
    name: 'jitprov_worker_threads',
    help: 'Worker threads (SAML validation and transforms) by state: alive, busy, starting',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const s = sources.workers();
      this.set({ state: 'alive' }, s.workers);
      this.set({ state: 'busy' }, s.busy);
      this.set({ state: 'starting' }, s.starting);
    },
  });
  new Gauge({
    name: 'jitprov_worker_queue_depth',
    help: 'Jobs waiting for a worker thread',
    registers,
    collect() {
      this.set(sources.workers().queued);
    },
  });
  readCounter(
    registry,
    'jitprov_worker_restarts_total',
    'Worker threads replaced (stopped at a deadline or crashed)',
    () => sources.workers().restarts,
  );
  new Counter({
    name: 'jitprov_worker_crashes_total',
    help: 'Worker threads that died under a job, by the phase the job was in (a validation is run again once)',
    labelNames: ['phase'],
    registers: [registry],
    collect() {
      this.reset();
      const { crashes } = sources.workers();
      this.inc({ phase: 'validation' }, crashes.validation);
      this.inc({ phase: 'transforms' }, crashes.transforms);
    },
  });
  readCounter(
    registry,
    'jitprov_worker_deadline_stops_total',
    'Worker jobs stopped at their deadline',
    () => sources.workers().deadlineStops,
  );

  // Licenses and certificates: one database read per scrape, shared by their gauges.
  const timeoutMs = sources.dbReadTimeoutMs ?? 2000;
  let pending: Promise<Awaited<ReturnType<typeof readDatabase>> | null> | null = null;
  async function readDatabase() {
    const em = sources.orm.em.fork();
    const [licenses, certificates] = await Promise.all([licenseSeats(em), connectionCertificates(em)]);
    return { licenses, certificates };
  }
  /** The database part of one scrape; null when the database did not answer (reported as down). */
  const scrapeDatabase = () => {
    pending ??= withTimeout(readDatabase(), timeoutMs)
      .catch(() => null)
      .finally(() => {
        // The next scrape reads again; the gauges of this one share the read.
        setImmediate(() => {
          pending = null;
        });
      });
    return pending;
  };
  new Gauge({
    name: 'jitprov_scrape_database_up',
    aggregator: 'min',
    help: '1 when this scrape could read licenses and certificates from the database, else 0',
    registers,
    async collect() {
      this.set((await scrapeDatabase()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'jitprov_license_seats_used',
    aggregator: 'first',
    help: 'Seats granted, per license',
    labelNames: ['license', 'license_id'] as const,
    registers,
    async collect() {
      const db = await scrapeDatabase();
      this.reset();
      for (const l of db?.licenses ?? []) this.set({ license: l.name, license_id: l.id }, l.used);
    },
  });
  new Gauge({
    name: 'jitprov_license_seats_total',
    aggregator: 'first',
    help: 'Seat limit, per license (licenses without a limit are absent)',
    labelNames: ['license', 'license_id'] as const,
    registers,
    async collect() {
      const db = await scrapeDatabase();
      this.reset();
      for (const l of db?.licenses ?? []) {
        if (l.seats !== null) this.set({ license: l.name, license_id: l.id }, l.seats);
      }
    },
  });
  new Gauge({
    name: 'jitprov_license_active',
    aggregator: 'first',
    help: '1 when the license is active (granted at sign-in), else 0',
    labelNames: ['license', 'license_id'] as const,
    registers,
    async collect() {
      const db = await scrapeDatabase();
      this.reset();
      for (const l of db?.licenses ?? []) this.set({ license: l.name, license_id: l.id }, l.active ? 1 : 0);
    },
  });
  new Gauge({
    name: 'jitprov_connection_certificate_expiry_days',
    aggregator: 'first',
    help: "Days until each pinned IdP signing certificate expires, per connection (negative: expired); alert on the connection's largest value",
    labelNames: ['connection', 'connection_id', 'fingerprint'] as const,
    registers,
    async collect() {
      const db = await scrapeDatabase();
      this.reset();
      const now = Date.now();
      for (const c of db?.certificates ?? []) {
        this.set(
          { connection: c.connection, connection_id: c.connectionId, fingerprint: c.fingerprintSha256 },
          Math.round(((c.notAfter.getTime() - now) / 86_400_000) * 100) / 100,
        );
      }
    },
  });

  const recorder: SignInRecorder = {
    signIn(o: SignInObservation) {
      signIns.inc({ via: o.via, outcome: o.outcome, code: o.code ?? '' });
      const outcome = o.outcome === 'refused' ? 'refused' : 'ok';
      acsDuration.observe({ via: o.via, stage: 'acs', outcome }, o.totalMs / 1000);
      if (o.stages) {
        acsDuration.observe({ via: o.via, stage: 'validation', outcome }, o.stages.validationMs / 1000);
        acsDuration.observe({ via: o.via, stage: 'transforms', outcome }, o.stages.transformsMs / 1000);
        acsDuration.observe({ via: o.via, stage: 'db', outcome }, o.stages.dbMs / 1000);
      }
    },
  };

  const operationNames = new Set<string>();
  /** A bounded label for a client-chosen operation name. */
  function operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'invalid';
    if (operationNames.has(name)) return name;
    if (operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    operationNames.add(name);
    return name;
  }

  function graphqlRequest(o: { operation: string | null; type: string; status: number; ms: number }): void {
    const operation = operationLabel(o.operation);
    graphqlRequests.inc({ operation, type: o.type, status: String(o.status) });
    graphqlDuration.observe({ operation, type: o.type }, o.ms / 1000);
  }

  // Under the cluster: the whole cluster's metrics, gathered by the primary (metrics/cluster.ts).
  const cluster = joinClusterMetrics(registry);
  return {
    registry,
    recorder,
    graphqlRequest,
    contentType: registry.contentType,
    text: cluster ?? (() => registry.metrics()),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
