import { describe, expect, it } from 'vitest';
import { createMetricsRoute } from '../../src/metrics/route.js';

const TOKEN = 'metrics-token-0123456789';
const scrape = (route: ReturnType<typeof createMetricsRoute>) =>
  route(new Request('http://x/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }));

describe('GET /metrics when the metrics cannot be gathered', () => {
  it('answers a typed 503 naming the cause (a cluster process not answering yet), not a 500', async () => {
    const route = createMetricsRoute(TOKEN, {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: () => Promise.reject(new Error('the cluster primary did not answer for the metrics')),
    });
    const res = await scrape(route);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: {
        code: 'METRICS_UNAVAILABLE',
        message: 'the metrics could not be gathered: the cluster primary did not answer for the metrics',
      },
    });
  });

  it('serves them once they can be', async () => {
    const route = createMetricsRoute(TOKEN, {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: async () => 'up 1\n',
    });
    const res = await scrape(route);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('up 1\n');
  });
});
