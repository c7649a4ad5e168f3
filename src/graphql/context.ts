import type { EntityManager } from '@mikro-orm/postgresql';
import type { Auth } from '../auth/authenticate.js';
import type { Config } from '../config/config.js';

/**
 * The services resolvers call, each declared by the module whose fields use it, through
 * declaration merging (`declare module '../graphql/context.js' { interface Services { … } }`), so
 * that this floor imports none of the modules above it; app.ts provides them all.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in the modules that use it
export interface Services {}

/** Built once per request: a forked EntityManager, the caller, and the services resolvers use. */
export interface Context {
  em: EntityManager;
  auth: Auth;
  requestId: string;
  config: Config;
  services: Services;
  /** Ids of records this request may read without a session: what a sign-in handoff returns. */
  handedOver: Set<string>;
}
