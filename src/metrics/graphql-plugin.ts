import type { Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.js';

const OPERATION = /\b(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/** The operation a GraphQL request names: its operationName, else the first named operation. */
function operationOf(params: { query?: string; operationName?: string | null }): {
  name: string | null;
  type: string;
} {
  const query = params.query ?? '';
  if (params.operationName) {
    // Only a GraphQL name goes into the pattern (the caller chose it).
    if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(params.operationName))
      return { name: params.operationName, type: 'unknown' };
    const m = new RegExp(`\\b(query|mutation|subscription)\\s+${params.operationName}\\b`).exec(query);
    return { name: params.operationName, type: m?.[1] ?? 'unknown' };
  }
  const m = OPERATION.exec(query);
  if (m) return { name: m[2] ?? null, type: m[1] ?? 'query' };
  return { name: null, type: query.trimStart().startsWith('{') ? 'query' : 'unknown' };
}

/**
 * Counts GraphQL requests and their latency by operation name (Yoga plugin). Refused documents
 * (too deep, too costly, not parsable) are counted too, under the name they gave.
 */
export function graphqlMetricsPlugin(metrics: Pick<Metrics, 'graphqlRequest'>): Plugin {
  const seen = new WeakMap<Request, { started: number; name: string | null; type: string }>();
  return {
    onRequest({ request }) {
      seen.set(request, { started: performance.now(), name: null, type: 'unknown' });
    },
    onParams({ request, params }) {
      const entry = seen.get(request);
      if (!entry) return;
      const op = operationOf({
        ...(typeof params.query === 'string' ? { query: params.query } : {}),
        operationName: typeof params.operationName === 'string' ? params.operationName : null,
      });
      entry.name = op.name;
      entry.type = op.type;
    },
    onResponse({ request, response }) {
      const entry = seen.get(request);
      if (!entry) return;
      seen.delete(request);
      metrics.graphqlRequest({
        operation: entry.name,
        type: entry.type,
        status: response.status,
        ms: performance.now() - entry.started,
      });
    },
  };
}
