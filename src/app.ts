import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { GraphQLError } from 'graphql';
import { createYoga } from 'graphql-yoga';
import type { Logger } from 'pino';
import { createRefusalLog } from './audit/refusals.js';
import { type Auth, createAuthenticator, type Rejection } from './auth/authenticate.js';
import type { Config } from './config/config.js';
import { dbPoolStats } from './db/pool.sql.js';
import type { Context, Services } from './graphql/context.js';
import { createMaskError } from './graphql/mask-error.js';
import { securityPlugins } from './graphql/security.js';
import { readCapped } from './http/body.js';
import { createConsoleRoute } from './http/console.js';
import { landingPage } from './http/landing.js';
import { currentRequestId, requestIdOf, runWithRequest } from './http/request-context.js';
import { graphqlMetricsPlugin } from './metrics/graphql-plugin.js';
import { createMetrics } from './metrics/metrics.js';
import { createMetricsRoute } from './metrics/route.js';
import { inSpan, withIncomingTrace } from './metrics/tracing.js';
import { createConfigurations } from './provisioning/configuration.js';
import { createInactivityPolicy } from './provisioning/inactivity.js';
import { createProvisioning } from './provisioning/provision.js';
import { createRedirectPolicy } from './saml/relay-state.js';
import { createSpKeyStore } from './saml/sp-keys.js';
import { schema } from './schema.js';
import { createScimRoutes } from './scim/routes.js';
import { createAuthnRequests } from './sign-in/authn-requests.js';
import { createSignInFlow } from './sign-in/flow.js';
import { createSamlRoutes, sessionCookieOf } from './sign-in/routes.js';
import type { Workers } from './workers/workers.js';

export interface AppDeps {
  config: Config;
  orm: MikroORM;
  logger: Logger;
  /** The worker threads (and the plugins they run); owned by the caller, shared by several apps in tests. */
  workers: Workers;
  /** Process metrics (CPU, memory, GC) in /metrics beside the service's; default true. */
  processMetrics?: boolean;
}

const REJECTION_MESSAGES: Record<Rejection, string> = {
  UNKNOWN: 'the bearer token is not known (never issued, or malformed)',
  EXPIRED: 'the session has expired: sign in again',
  REVOKED: 'the token was revoked (signed out, or revoked by an admin)',
  USER_BLOCKED: "the session's user is blocked",
};

/**
 * The whole service as one fetch function (Request → Response), with no listening socket: the
 * server wraps it for node:http, tests call it in process. Wires the roads (the SAML sign-in
 * routes and mutation) to the provisioning core, and GraphQL to the services its resolvers use.
 */
export function createApp({ config, orm, logger, workers, processMetrics }: AppDeps) {
  const metrics = createMetrics({
    orm,
    workers: () => workers.stats(),
    dbPool: () => dbPoolStats(orm),
    ...(processMetrics === undefined ? {} : { processMetrics }),
  });
  const scrape = createMetricsRoute(config.metricsToken, metrics);
  const spKeys = createSpKeyStore({ config, logger });
  const redirects = createRedirectPolicy({
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedRedirectOrigins,
  });
  const provisioning = createProvisioning({
    orm,
    configurations: createConfigurations(orm),
    // The transforms the core runs on the main thread's behalf, traced (those in the validation job are traced by the road).
    transforms: {
      transform: (items) =>
        inSpan('jitprov.transforms', { 'jitprov.transforms': items.length }, () => workers.transform(items)),
    },
    sessionTtlSeconds: config.sessionTtlSeconds,
    logger,
  });
  const authnRequests = createAuthnRequests({ orm, config, spKeys, redirects });
  const signIn = createSignInFlow({
    config,
    workers,
    provisioning,
    redirects,
    authnRequests,
    spKeys,
    logger,
    recorder: metrics.recorder,
  });
  const authenticate = createAuthenticator({ orm, adminToken: config.adminToken });
  const refusals = createRefusalLog({ orm, logger });
  const saml = createSamlRoutes({ config, signIn, authnRequests, spKeys, logger });
  const scim = createScimRoutes({ orm, provisioning, publicUrl: config.publicUrl, logger });
  const adminConsole = createConsoleRoute();
  const inactivity = createInactivityPolicy({ orm, logger });
  const services: Services = { plugins: workers.plugins, transforms: workers, signIn, inactivity };

  const yoga = createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.env === 'development',
    // Served from the package, not a CDN: GraphiQL works offline. Loaded when first asked for
    // (development only): its 9 MB bundle stays out of a production process's memory.
    renderGraphiQL: async (options) =>
      (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    landingPage: false,
    // Unexpected errors reach clients as a generic message; the detail goes to the log only.
    maskedErrors: { maskError: createMaskError(logger) },
    logging: false,
    plugins: [
      graphqlMetricsPlugin(metrics),
      ...securityPlugins(config.env === 'production', (code, message) =>
        refusals.record({ code, message, requestId: currentRequestId() ?? null }),
      ),
    ],
    context: async ({ request }): Promise<Context> => {
      const auth = await authenticateRequest(request);
      const requestId = currentRequestId() ?? randomUUID();
      if (auth.kind === 'rejected') {
        // A credential that no longer works is an answer of its own, not an anonymous request:
        // a client can tell "signed out" from "never signed in", and nothing is served.
        const message = REJECTION_MESSAGES[auth.why];
        refusals.record({ code: 'UNAUTHENTICATED', message, requestId });
        throw new GraphQLError(message, {
          extensions: { code: 'UNAUTHENTICATED', reason: auth.why, http: { status: 401 } },
        });
      }
      return { em: orm.em.fork(), auth, requestId, config, services, handedOver: new Set() };
    },
  });

  /**
   * The bearer token, else the browser's session cookie (what a SAML sign-in set; how the admin
   * console uses it). The cookie counts only on a request from our own origin (or one that names
   * none): SameSite=Lax already keeps it off cross-site requests, and the CSRF header rule applies.
   * A dead cookie is simply no credential: the browser is not signed in.
   */
  async function authenticateRequest(request: Request): Promise<Auth> {
    const header = request.headers.get('authorization');
    if (header !== null) return authenticate(header);
    const cookie = sessionCookieOf(request.headers.get('cookie'));
    const origin = request.headers.get('origin');
    if (!cookie || (origin !== null && origin !== publicOrigin)) return { kind: 'anonymous' };
    const auth = await authenticate(`Bearer ${cookie}`);
    return auth.kind === 'user' ? auth : { kind: 'anonymous' };
  }
  const publicOrigin = new URL(config.publicUrl).origin;

  async function ready(): Promise<Response> {
    if (draining) {
      return Response.json({ status: 'unavailable', reason: 'shutting down' }, { status: 503 });
    }
    const { ok } = await orm.checkConnection();
    return ok
      ? Response.json({ status: 'ready' })
      : Response.json({ status: 'unavailable', reason: 'database unreachable' }, { status: 503 });
  }

  async function route(request: Request, pathname: string): Promise<Response> {
    const method = request.method;
    if (pathname === '/graphql') {
      if (method !== 'POST') return yoga.fetch(request, {});
      // Yoga reads the whole body: cap it first, streamed, whether or not a length is declared.
      const body = await readCapped(request, config.graphqlMaxBodyBytes);
      if (body === null) {
        return Response.json(
          { errors: [{ message: 'request body too large', extensions: { code: 'REQUEST_TOO_LARGE' } }] },
          { status: 413 },
        );
      }
      return yoga.fetch(new Request(request.url, { method, headers: request.headers, body }), {});
    }
    if (pathname === '/saml/acs' && method === 'POST') return saml.acs(request);
    if (pathname === '/saml/metadata' && method === 'GET') return saml.metadata();
    if (pathname === '/saml/login' && method === 'GET') return saml.login(request);
    if (pathname === '/scim/v2' || pathname.startsWith('/scim/v2/')) return scim.handle(request, pathname);
    if (pathname === '/' && method === 'GET') return landingPage(config);
    if (
      (pathname === '/admin' || pathname.startsWith('/admin/')) &&
      (method === 'GET' || method === 'HEAD')
    ) {
      return adminConsole(pathname);
    }
    if (pathname === '/healthz' && method === 'GET') return Response.json({ status: 'ok' });
    if (pathname === '/readyz' && method === 'GET') return ready();
    if (pathname === '/metrics' && method === 'GET') return scrape(request);
    return Response.json({ error: { code: 'NOT_FOUND', message: 'no such route' } }, { status: 404 });
  }

  // Graceful shutdown: once draining, requests already in flight finish; new ones are refused
  // (503 SHUTTING_DOWN, Retry-After, Connection: close) so that a load balancer sends them elsewhere.
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | null = null;

  /** Refuses new requests from now on; resolves when those in flight are done, or after `graceMs`. */
  function drain(graceMs: number): Promise<{ unfinished: number }> {
    draining = true;
    if (inFlight === 0) return Promise.resolve({ unfinished: 0 });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        onIdle = null;
        resolve({ unfinished: inFlight });
      }, graceMs);
      onIdle = () => {
        clearTimeout(timer);
        onIdle = null;
        resolve({ unfinished: 0 });
      };
    });
  }

  const retryAfter = String(config.retryAfterSeconds);

  /** One log line per request, with its id (also sent back as x-request-id); no bodies, no tokens. */
  async function fetch(request: Request): Promise<Response> {
    const requestId = requestIdOf(request);
    const started = performance.now();
    const { pathname } = new URL(request.url);
    const liveness = pathname === '/healthz' || pathname === '/readyz' || pathname === '/metrics';
    if (draining && !liveness) {
      const response = Response.json(
        { error: { code: 'SHUTTING_DOWN', message: 'the server is shutting down; try again', requestId } },
        {
          status: 503,
          headers: { 'retry-after': retryAfter, connection: 'close', 'x-request-id': requestId },
        },
      );
      return response;
    }
    inFlight++;
    return withIncomingTrace(request.headers, () =>
      runWithRequest(requestId, async () => {
        let response: Response;
        try {
          response = await route(request, pathname);
        } catch (err) {
          logger.error({ err, requestId }, 'request failed unexpectedly');
          response = Response.json(
            { error: { code: 'INTERNAL', message: 'internal error', requestId } },
            { status: 500 },
          );
        }
        inFlight--;
        if (inFlight === 0) onIdle?.();
        response.headers.set('x-request-id', requestId);
        // Answered while draining: the client opens its next connection elsewhere.
        if (draining) response.headers.set('connection', 'close');
        // Every 503 says when to come back (the database away, a validation past its deadline).
        if (response.status === 503 && !response.headers.has('retry-after')) {
          response.headers.set('retry-after', retryAfter);
        }
        logger.info(
          {
            requestId,
            method: request.method,
            path: pathname,
            status: response.status,
            ms: Math.round(performance.now() - started),
          },
          'request',
        );
        return response;
      }),
    );
  }

  return { fetch, signIn, inactivity, metrics, drain, inFlight: () => inFlight };
}
export type App = ReturnType<typeof createApp>;
