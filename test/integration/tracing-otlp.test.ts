import { createServer, type IncomingMessage } from 'node:http';
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startTracing } from '../../src/metrics/tracing.js';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { startServerProcess } from '../helpers/server-process.js';
import { addEntraMappings, createConnection } from '../helpers/setup.js';
import { createTestDatabase, postAcs } from '../helpers/test-app.js';

/** A local OTLP/HTTP receiver: records each export's path, type and bytes. */
async function startCollector() {
  const received: { url: string; type: string; body: Buffer }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        url: req.url ?? '',
        type: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Tracing is off unless an OTLP endpoint is configured; with one, spans reach it over OTLP/HTTP. */
describe('startTracing', () => {
  it('is off by default', async () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(config.otlpTracesEndpoint).toBeUndefined();
    expect(
      await startTracing({ endpoint: config.otlpTracesEndpoint, serviceName: config.otelServiceName }),
    ).toBeNull();
  });

  it('takes OTEL_EXPORTER_OTLP_ENDPOINT as the base and the traces endpoint as is', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otlpTracesEndpoint).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/traces',
      }).otlpTracesEndpoint,
    ).toBe('http://other:4318/traces');
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('exports spans to the configured collector (a local OTLP/HTTP receiver)', async () => {
    const received: { url: string; type: string; bytes: number; body: Buffer }[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        received.push({
          url: req.url ?? '',
          type: req.headers['content-type'] ?? '',
          bytes: body.length,
          body,
        });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    const address = collector.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const config = loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_SERVICE_NAME: 'jitprov-test',
      });
      const tracing = await startTracing({
        endpoint: config.otlpTracesEndpoint,
        serviceName: config.otelServiceName,
      });
      expect(tracing).not.toBeNull();
      trace.getTracer('jitprov').startSpan('jitprov.acs').end();
      await tracing?.shutdown();
      expect(received.length).toBe(1);
      expect(received[0]?.url).toBe('/v1/traces');
      expect(received[0]?.type).toMatch(/protobuf|json/);
      // The span name and the service name travel in the payload.
      expect(received[0]?.body.includes('jitprov.acs')).toBe(true);
      expect(received[0]?.body.includes('jitprov-test')).toBe(true);
    } finally {
      await new Promise((r) => collector.close(r));
    }
  });

  it('the real server exports its sign-in spans when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushed at SIGTERM', async () => {
    const [collector, db, idp] = await Promise.all([
      startCollector(),
      createTestDatabase(),
      TestIdp.create(),
    ]);
    try {
      const server = await startServerProcess({
        env: { DATABASE_URL: db.url, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, WORKER_THREADS: '1' },
      });
      try {
        const connectionId = await createConnection(server.app, idp);
        await addEntraMappings(server.app, connectionId);
        const r = await postAcs(
          server.app,
          idp.response('otlp@contoso.example', entraClaims('Ot', 'Lp', 'otlp@contoso.example')),
        );
        expect(r.status).toBe(200);
        server.kill('SIGTERM');
        expect((await server.exited).code).toBe(0);
      } finally {
        server.kill('SIGKILL');
      }
      const all = Buffer.concat(collector.received.map((x) => x.body));
      expect(collector.received.every((x) => x.url === '/v1/traces')).toBe(true);
      for (const name of ['jitprov.acs', 'jitprov.validation', 'jitprov.transaction']) {
        expect(all.includes(name)).toBe(true);
      }
    } finally {
      await collector.close();
      await db.drop();
    }
  }, 120_000);
});
