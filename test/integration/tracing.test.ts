import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, gql, PUBLIC_URL, type TestApp } from '../helpers/test-app.js';

/**
 * Traces with the SDK's in-memory exporter (registered for this file's process): one `jitprov.acs`
 * span per ACS handoff, with the request id of the logs, and children for the validation, the
 * transforms and the transaction.
 */
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

let t: TestApp;
let idp: TestIdp;
let connectionId: string;

beforeAll(async () => {
  [t, idp] = await Promise.all([createTestApp(), TestIdp.create()]);
  connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
  await addMapping(t.app, connectionId, EntraClaims.department, 'department', false, {
    kind: 'TRANSFORM',
    plugin: 'lowercase-trim',
    params: {},
  });
});
afterAll(async () => {
  await t?.close();
  await provider.shutdown();
});
beforeEach(() => exporter.reset());

const post = (samlResponse: string, requestId: string, extra: Record<string, string> = {}) =>
  t.app.fetch(
    new Request(`${PUBLIC_URL}/saml/acs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'x-request-id': requestId,
        ...extra,
      },
      body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
    }),
  );

const childrenOf = (spans: ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe('OpenTelemetry spans', () => {
  it('gives each ACS handoff a span with the request id and children validation, transforms, transaction', async () => {
    const user = 'traced@contoso.example';
    const res = await post(
      idp.response(user, { ...entraClaims('Tra', 'Ced', user), [EntraClaims.department]: ' Sales ' }),
      'req-traced-1',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-traced-1');
    const spans = exporter.getFinishedSpans();
    const acs = spans.filter((s) => s.name === 'jitprov.acs');
    expect(acs.length).toBe(1);
    const root = acs[0] as ReadableSpan;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({
      'jitprov.request_id': 'req-traced-1',
      'jitprov.via': 'ACS_POST',
      'jitprov.outcome': 'created',
    });
    expect(root.status.code).not.toBe(SpanStatusCode.ERROR);
    const children = childrenOf(spans, root);
    expect(children.map((s) => s.name).sort()).toEqual([
      'jitprov.transaction',
      'jitprov.transforms',
      'jitprov.validation',
    ]);
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      // Inside the ACS span in time.
      const [s, e] = [child.startTime, child.endTime].map(([sec, ns]) => sec * 1e3 + ns / 1e6) as [
        number,
        number,
      ];
      const [rs, re] = [root.startTime, root.endTime].map(([sec, ns]) => sec * 1e3 + ns / 1e6) as [
        number,
        number,
      ];
      expect(s).toBeGreaterThanOrEqual(rs - 1);
      expect(e).toBeLessThanOrEqual(re + 1);
    }
    const byName = Object.fromEntries(children.map((c) => [c.name, c]));
    expect(byName['jitprov.transaction']?.attributes['jitprov.attempt']).toBe(1);
  });

  it("continues the caller's trace from an incoming W3C traceparent", async () => {
    const user = 'propagated@contoso.example';
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await post(idp.response(user, entraClaims('Pro', 'Pagated', user)), 'req-traced-2', {
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
    });
    expect(res.status).toBe(200);
    const root = exporter.getFinishedSpans().find((s) => s.name === 'jitprov.acs') as ReadableSpan;
    expect(root.spanContext().traceId).toBe(traceId);
    expect(root.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    // A malformed one starts a trace of its own.
    exporter.reset();
    const other = 'unpropagated@contoso.example';
    await post(idp.response(other, entraClaims('Un', 'Pro', other)), 'req-traced-3', {
      traceparent: 'garbage',
    });
    const fresh = exporter.getFinishedSpans().find((s) => s.name === 'jitprov.acs') as ReadableSpan;
    expect(fresh.parentSpanContext).toBeUndefined();
    expect(fresh.spanContext().traceId).not.toBe(traceId);
  });

  it('marks a refused handoff with its code, and the GraphQL road too', async () => {
    const res = await post(
      idp.response('refused-traced@contoso.example', {}, { audience: 'https://elsewhere.example' }),
      'req-traced-2',
    );
    expect(res.status).toBe(400);
    const [root] = exporter.getFinishedSpans().filter((s) => s.name === 'jitprov.acs');
    expect(root?.status.code).toBe(SpanStatusCode.ERROR);
    expect(root?.status.message).toBe('SAML_AUDIENCE_MISMATCH');
    expect(root?.attributes['jitprov.error_code']).toBe('SAML_AUDIENCE_MISMATCH');
    expect(root?.attributes['jitprov.request_id']).toBe('req-traced-2');
    // No assertion detail or stack in the span.
    expect(JSON.stringify(root?.events ?? [])).not.toMatch(/at .*\.ts:\d+/);

    exporter.reset();
    const user = 'handoff-traced@contoso.example';
    const r = await gql<{ samlAcs: { __typename: string } }>(
      t.app,
      'mutation($r: String!) { samlAcs(input: { samlResponse: $r }) { __typename } }',
      { r: idp.response(user, entraClaims('Hand', 'Off', user)) },
      null,
    );
    expect(r.data?.samlAcs.__typename).toBe('SignInResult');
    const spans = exporter.getFinishedSpans();
    const handoff = spans.find((s) => s.name === 'jitprov.acs');
    expect(handoff?.attributes['jitprov.via']).toBe('GRAPHQL');
    expect(childrenOf(spans, handoff as ReadableSpan).map((s) => s.name)).toContain('jitprov.transaction');
  });
});
