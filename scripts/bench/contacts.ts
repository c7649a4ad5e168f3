import { contactsQuery } from './admin.js';
import { type LoadTarget, runLoad } from './load.js';
import { type ResourceUse, type Row, summaryRow } from './report.js';
import { progress } from './stats.js';
import { TARGETS } from './targets.js';

export interface ContactsPageOptions {
  port: number;
  adminToken: string;
  schemaFile: string;
  contacts: number;
  queries: { warmup: number; timed: number };
  limitSeconds: number;
  /** Runs the timed queries while watching the server's RSS and CPU. */
  observe: <T>(work: () => Promise<T>) => Promise<T & ResourceUse>;
}

/**
 * `contacts(first: 50)` with user and licenses, one query at a time, shaped by the schema as it is
 * now. The first row is the query; a second one, without totalCount, shows what the
 * exact count costs at this size.
 */
export async function contactsPage(o: ContactsPageOptions): Promise<Row[]> {
  const label = `contacts(first: 50) at ${o.contacts / 1000}k`;
  const q = contactsQuery(o.schemaFile);
  if ('missing' in q) {
    progress(`  ${q.missing}`);
    return [{ ...summaryRow('GraphQL', label, null), note: q.missing }];
  }
  const rows = [await measure(o, label, q.query, true)];
  if (q.withoutTotal) rows.push(await measure(o, `${label}, without totalCount`, q.withoutTotal, false));
  return rows;
}

async function measure(o: ContactsPageOptions, label: string, query: string, judged: boolean): Promise<Row> {
  progress(`  ${query}`);
  const target: LoadTarget = {
    port: o.port,
    path: '/graphql',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `Bearer ${o.adminToken}`,
    },
  };
  const body = Buffer.from(JSON.stringify({ query }));
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
  const options = { concurrency: 1, timeLimitMs: o.limitSeconds * 1000, check };
  await runLoad(target, bodies(o.queries.warmup), options);
  const r = await o.observe(() => runLoad(target, bodies(o.queries.timed), options));
  progress(`  ${label}: ${r.ok}/${r.sent} ok, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`);
  const ok = r.ok > 0;
  return {
    ...summaryRow('GraphQL', label, null),
    ok: r.ok,
    sent: r.sent,
    perSecond: r.perSecond,
    p50: ok ? r.p50 : null,
    p99: ok ? r.p99 : null,
    peakRssMiB: r.peakRssMiB,
    serverMainPct: r.serverMainPct,
    serverCores: r.serverCores,
    clientCores: r.clientCores,
    postgresCores: r.postgresCores,
    targets:
      ok && judged
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
