import { secretsEqual } from '../auth/tokens.js';
import type { Metrics } from './metrics.js';

const refuse = (status: number, code: string, message: string, extra: Record<string, string> = {}) =>
  Response.json({ error: { code, message } }, { status, headers: extra });

/**
 * GET /metrics: the Prometheus text format, behind a bearer token of its own (METRICS_TOKEN).
 * Never public by default: with no token configured the route does not exist (404).
 */
export function createMetricsRoute(
  token: string | undefined,
  metrics: Pick<Metrics, 'text' | 'contentType'>,
) {
  return async function scrape(request: Request): Promise<Response> {
    if (!token) return refuse(404, 'NOT_FOUND', 'no such route');
    const header = request.headers.get('authorization') ?? '';
    const challenge = { 'www-authenticate': 'Bearer realm="metrics"' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      return refuse(401, 'UNAUTHENTICATED', 'the metrics need a bearer token (METRICS_TOKEN)', challenge);
    }
    if (!secretsEqual(m[1] as string, token)) {
      return refuse(401, 'UNAUTHENTICATED', 'the metrics token is not valid', challenge);
    }
    let text: string;
    try {
      text = await metrics.text();
    } catch (e) {
      // Under the cluster a scrape gathers every process; one still starting (or gone) does not
      // answer the primary: a typed 503 (with Retry-After), not a 500, and the next scrape succeeds.
      const why = e instanceof Error ? e.message : String(e);
      return refuse(503, 'METRICS_UNAVAILABLE', `the metrics could not be gathered: ${why}`);
    }
    return new Response(text, {
      status: 200,
      headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' },
    });
  };
}
