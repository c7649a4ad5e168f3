import {
  type Attributes,
  context,
  propagation,
  type Span,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';

/**
 * OpenTelemetry traces. The code records spans through the OpenTelemetry API, which does nothing
 * until a tracer provider is registered: `startTracing` registers one (OTLP over HTTP) only when
 * an OTLP endpoint is configured, so traces are off unless asked for.
 *
 * Spans: `jitprov.acs` per ACS handoff (road, request id, outcome, refusal code), with children
 * `jitprov.validation` (the SAML validation in a worker), `jitprov.transforms` (the mappings'
 * transforms) and `jitprov.transaction` (one per attempt of the provisioning transaction).
 */
const tracer = () => trace.getTracer('jitprov');

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * Runs a request's work in the trace its caller started (W3C `traceparent` / `tracestate`), so that
 * `jitprov.acs` is a child of the load balancer's or the IdP proxy's span instead of a new root.
 * Without a registered SDK (traces off) the propagator is the API's no-op and nothing changes.
 */
export function withIncomingTrace<T>(headers: Headers, fn: () => Promise<T>): Promise<T> {
  if (!headers.has('traceparent')) return fn();
  return context.with(propagation.extract(context.active(), headers, headerGetter), fn);
}

/** Runs `fn` in a child span of the active one; a thrown error marks the span and is rethrown. */
export async function inSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      markFailed(span, e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/** A span of work that already ran (e.g. in a worker thread), from its start and end times (ms since the epoch). */
export function pastSpan(name: string, startMs: number, endMs: number, attributes: Attributes = {}): void {
  tracer().startSpan(name, { startTime: startMs, attributes }).end(endMs);
}

function markFailed(span: Span, e: unknown): void {
  const code =
    typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : 'INTERNAL';
  span.setAttribute('jitprov.error_code', code);
  // The code names the cause; the message may carry input, and stack traces stay in the logs.
  span.setStatus({ code: SpanStatusCode.ERROR, message: code });
}

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  endpoint: string | undefined;
  serviceName: string;
  serviceVersion?: string;
}

/**
 * Starts exporting traces when an endpoint is configured; returns how to flush and stop, or null (off).
 * The SDK (tracing-sdk.ts) is loaded only then: a process that exports no traces does not load it at start.
 */
export async function startTracing(opts: TracingOptions): Promise<{ shutdown(): Promise<void> } | null> {
  if (!opts.endpoint) return null;
  const { exportTraces } = await import('./tracing-sdk.js');
  return exportTraces(opts.endpoint, opts.serviceName, opts.serviceVersion);
}
