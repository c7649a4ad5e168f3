import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config/config.js';
import type { PluginCatalog } from '../mapping/transform.js';
import type { AcsService } from '../saml/acs.service.js';

export type Auth =
  | { kind: 'anonymous' }
  | { kind: 'admin' }
  | { kind: 'user'; userId: string; sessionId: string; admin: boolean };

/** Built once per request: a forked EntityManager, the caller, and the services resolvers use. */
export interface Context {
  em: EntityManager;
  auth: Auth;
  requestId: string;
  acs: AcsService;
  config: Config;
  plugins: PluginCatalog;
  /** Ids of records this request may read without a session: what a sign-in handoff returns. */
  handedOver: Set<string>;
}
