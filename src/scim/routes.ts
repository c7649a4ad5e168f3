import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { hashToken } from '../auth/tokens.js';
import type { ConnectionConfig } from '../provisioning/configuration.js';
import type { Provisioning } from '../provisioning/provision.js';
import { discovery } from './discovery.js';
import { ScimError, scimErrorResponse, scimJson } from './errors.js';
import { createGroupRoutes } from './groups.routes.js';
import { createUserRoutes } from './users.routes.js';
import { connectionOfToken, touchScimToken } from './users.sql.js';

const TOUCH_EVERY_MS = 60_000;

/**
 * SCIM 2.0 (RFC 7643/7644) at /scim/v2: the IdP's provisioning service creates, updates and
 * deprovisions users ahead of sign-in. A second road into the provisioning core: every write is one
 * jitprov_provision call (user, contact, licenses, roles kept, the SCIM record, the provisioning
 * event with its field diffs, via SCIM), with the connection's mappings reading SCIM attribute
 * paths. The bearer token names the connection.
 */
export function createScimRoutes(deps: {
  orm: MikroORM;
  provisioning: Provisioning;
  publicUrl: string;
  logger: Logger;
}) {
  const baseUrl = `${deps.publicUrl}/scim/v2`;
  const touched = new Map<string, number>();
  const users = createUserRoutes({ ...deps, baseUrl });
  const groups = createGroupRoutes({ orm: deps.orm, baseUrl, reprovision: users.reprovision });

  async function authenticate(request: Request): Promise<ConnectionConfig> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!m?.[1]) throw new ScimError(401, 'a SCIM bearer token is required');
    const found = await connectionOfToken(deps.orm.em.fork(), hashToken(m[1]));
    if (!found)
      throw new ScimError(401, 'the bearer token is not a live SCIM token of a connection with SCIM on');
    const now = Date.now();
    if ((touched.get(found.tokenId) ?? found.lastUsedAt?.getTime() ?? 0) < now - TOUCH_EVERY_MS) {
      touched.set(found.tokenId, now);
      if (touched.size > 10_000) touched.clear();
      await touchScimToken(deps.orm.em.fork(), found.tokenId);
    }
    const config = await deps.provisioning.configurations.byId(found.connectionId);
    if (!config) throw new ScimError(401, 'the connection of this token is gone');
    return config;
  }

  /** GET, POST, PUT, PATCH, DELETE under /scim/v2; every refusal in the SCIM error schema. */
  async function handle(request: Request, pathname: string): Promise<Response> {
    try {
      const path = pathname.replace(/^\/scim\/v2/, '').replace(/\/+$/, '') || '/';
      const config = await authenticate(request);
      const info = discovery(path, baseUrl);
      if (info) {
        if (request.method !== 'GET') throw new ScimError(405, 'discovery is read-only');
        return scimJson(200, info);
      }
      const m = /^\/Users(?:\/([^/]+))?$/i.exec(path);
      if (m) return await users.handle(request, config, m[1] ? decodeURIComponent(m[1]) : null);
      const g = /^\/Groups(?:\/([^/]+))?$/i.exec(path);
      if (g) return await groups.handle(request, config, g[1] ? decodeURIComponent(g[1]) : null);
      throw new ScimError(404, `no SCIM endpoint ${path}`);
    } catch (e) {
      if (e instanceof ScimError) return scimErrorResponse(e);
      deps.logger.error({ err: e }, 'SCIM request failed unexpectedly');
      return scimErrorResponse(new ScimError(500, 'internal error'));
    }
  }

  return { handle };
}
