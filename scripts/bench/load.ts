import { Agent, request } from 'node:http';
import { type Summary, summarize } from './stats.js';

export interface LoadTarget {
  port: number;
  path: string;
  headers: Record<string, string>;
}

export interface LoadResult extends Summary {
  sent: number;
  ok: number;
  failed: number;
  /** Successful requests per second of wall time. */
  perSecond: number;
  elapsedMs: number;
  /** True when the phase stopped at its time limit before sending every body. */
  truncated: boolean;
  firstFailure: string | null;
  /** The server's own stage durations (its Server-Timing header), by stage name; {} without it. */
  stages: Record<string, Summary>;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop issuing new requests after this long (requests in flight finish). */
  timeLimitMs: number;
  /** Checks a 200 body (after the clock is read); false counts as a failure. */
  check?: (payload: Buffer) => boolean;
  /** Called after each completed request with the number completed so far. */
  onDone?: (completed: number) => void;
}

const CREATED_TRUE = Buffer.from('"created":true');
const CREATED_FALSE = Buffer.from('"created":false');
/** A first sign-in must have provisioned the user, a returning one must not have. */
/** `validation;dur=1.23, db;dur=4.5` → [['validation', 1.23], ['db', 4.5]] */
export function serverTiming(header: string | undefined): [string, number][] {
  if (!header) return [];
  return header.split(',').flatMap((entry) => {
    const [name, ...params] = entry.trim().split(';');
    const dur = params.find((p) => p.startsWith('dur='));
    return name && dur ? [[name, Number(dur.slice(4))] as [string, number]] : [];
  });
}

export const expectCreated =
  (created: boolean) =>
  (payload: Buffer): boolean =>
    payload.includes(created ? CREATED_TRUE : CREATED_FALSE);

/**
 * A closed loop: `concurrency` virtual clients, each sending the next pre-encoded body as soon as
 * its previous answer is complete, over kept-alive sockets. Per request the client only writes
 * bytes, reads bytes and reads the clock: it shares the two cores with the server and PostgreSQL.
 */
export async function runLoad(
  target: LoadTarget,
  bodies: readonly Buffer[],
  o: LoadOptions,
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  const samples: number[] = [];
  const stageSamples = new Map<string, number[]>();
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | null = null;
  const t0 = performance.now();
  const stopAt = t0 + o.timeLimitMs;

  const send = sender(target, agent);

  const client = async () => {
    for (;;) {
      if (performance.now() >= stopAt) return;
      const body = bodies[next++];
      if (!body) return;
      const t = performance.now();
      try {
        const { status, payload, timing } = await send(body);
        const elapsed = performance.now() - t;
        if (status === 200 && (!o.check || o.check(payload))) {
          ok++;
          samples.push(elapsed);
          for (const [name, ms] of serverTiming(timing)) {
            const list = stageSamples.get(name) ?? [];
            list.push(ms);
            stageSamples.set(name, list);
          }
        } else {
          failed++;
          firstFailure ??= `HTTP ${status}: ${payload.toString('utf8').slice(0, 300)}`;
        }
      } catch (e) {
        failed++;
        firstFailure ??= e instanceof Error ? e.message : String(e);
      }
      o.onDone?.(ok + failed);
    }
  };

  await Promise.all(Array.from({ length: o.concurrency }, client));
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  const sent = ok + failed;
  return {
    ...summarize(samples),
    sent,
    ok,
    failed,
    perSecond: (ok * 1000) / elapsedMs,
    elapsedMs,
    truncated: sent < bodies.length,
    firstFailure,
    stages: Object.fromEntries([...stageSamples].map(([name, ms]) => [name, summarize(ms)])),
  };
}

type Answer = { status: number; payload: Buffer; timing: string | undefined };

/** POSTs one pre-encoded body to the target over the agent's sockets; resolves when the answer is read. */
function sender(target: LoadTarget, agent: Agent): (body: Buffer) => Promise<Answer> {
  return (body) =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: target.port,
          path: target.path,
          method: 'POST',
          agent,
          headers: { ...target.headers, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              payload: Buffer.concat(chunks),
              timing: [res.headers['server-timing'] ?? []].flat().join(', ') || undefined,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

export interface OpenLoopResult extends LoadResult {
  /** The arrival rate asked for, per second. */
  ratePerSecond: number;
  /** p99 of how late requests left after their scheduled time (the client's own lag), ms. */
  sendLagP99: number;
  /** Most requests in flight at once. */
  maxInFlight: number;
}

/**
 * An open loop: requests leave at a fixed rate whatever the answers do — the i-th at t0 + i/rate —
 * and each latency is measured from its scheduled time, not from when it was sent: a stall of the
 * server (or of this client) shows as the queue it builds, instead of holding back the requests
 * that would have met it (coordinated omission). Sockets are kept alive and opened as needed.
 */
export async function runOpenLoop(
  target: LoadTarget,
  bodies: readonly Buffer[],
  o: { ratePerSecond: number; timeLimitMs: number; check?: (payload: Buffer) => boolean },
): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const send = sender(target, agent);
  const samples: number[] = [];
  const lags: number[] = [];
  const stageSamples = new Map<string, number[]>();
  const interval = 1000 / o.ratePerSecond;
  let ok = 0;
  let failed = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let firstFailure: string | null = null;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const stopAt = t0 + o.timeLimitMs;

  const one = async (body: Buffer, scheduled: number) => {
    lags.push(performance.now() - scheduled);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      const { status, payload, timing } = await send(body);
      const elapsed = performance.now() - scheduled;
      if (status === 200 && (!o.check || o.check(payload))) {
        ok++;
        samples.push(elapsed);
        for (const [name, ms] of serverTiming(timing)) {
          const list = stageSamples.get(name) ?? [];
          list.push(ms);
          stageSamples.set(name, list);
        }
      } else {
        failed++;
        firstFailure ??= `HTTP ${status}: ${payload.toString('utf8').slice(0, 300)}`;
      }
    } catch (e) {
      failed++;
      firstFailure ??= e instanceof Error ? e.message : String(e);
    } finally {
      inFlight--;
    }
  };

  let next = 0;
  while (next < bodies.length) {
    const now = performance.now();
    if (now >= stopAt) break;
    // Every request whose time has come leaves now (after a late timer, several at once).
    while (next < bodies.length && t0 + next * interval <= now) {
      pending.push(one(bodies[next] as Buffer, t0 + next * interval));
      next++;
    }
    const wait = t0 + next * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, Math.max(0, wait - 0.5)));
  }
  await Promise.all(pending);
  const elapsedMs = performance.now() - t0;
  agent.destroy();
  const sent = ok + failed;
  return {
    ...summarize(samples),
    sent,
    ok,
    failed,
    perSecond: (ok * 1000) / elapsedMs,
    elapsedMs,
    truncated: sent < bodies.length,
    firstFailure,
    stages: Object.fromEntries([...stageSamples].map(([name, ms]) => [name, summarize(ms)])),
    ratePerSecond: o.ratePerSecond,
    sendLagP99: summarize(lags).p99,
    maxInFlight,
  };
}
