import type { MikroORM } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { type TransformSpec, transformSpecs } from '../mapping/transform-calls.js';

/** A connection and its attribute mappings, as read at one configuration version. */
export interface ConnectionConfig {
  connection: IdpConnection;
  rules: AttributeMapping[];
  /** The rules' TRANSFORM mappings, for the workers. */
  transforms: TransformSpec[];
  /** Served from memory: may be older than the database (the transaction finds out). */
  cached: boolean;
}

/**
 * Connections and their mappings, kept in memory between provisionings instead of read for each.
 * Never trusted blindly: the provisioning transaction compares the connection's config_version
 * (bumped by the database on any change, from any process) with the one read here and the core
 * starts over on a mismatch, and a refusal based on a cached configuration is only given after
 * `isCurrent` has confirmed it. Bounded: a connection not found is not remembered, and there are
 * only as many entries as connections.
 */
export function createConfigurations(orm: MikroORM) {
  const byEntityId = new Map<string, ConnectionConfig>();

  async function load(where: { entityId: string } | { id: string }): Promise<ConnectionConfig | null> {
    const em = orm.em.fork();
    const connection = await em.findOne(IdpConnection, where);
    if (!connection) {
      if ('entityId' in where) byEntityId.delete(where.entityId);
      return null;
    }
    const rules = await em.find(
      AttributeMapping,
      { connection: connection.id },
      { orderBy: { position: 'asc' } },
    );
    const config = { connection, rules, transforms: transformSpecs(rules).specs };
    byEntityId.set(connection.entityId, { ...config, cached: true });
    return { ...config, cached: false };
  }

  return {
    /** The configuration of the connection with this IdP entity id: from memory when there, else read. */
    async byEntityId(entityId: string): Promise<ConnectionConfig | null> {
      return byEntityId.get(entityId) ?? load({ entityId });
    },
    /** Reads a configuration again, whatever memory holds; null when the connection is gone. */
    reload: (config: ConnectionConfig) => load({ id: config.connection.id }),
    /** Whether a cached configuration is still the database's (one indexed read). */
    async isCurrent(config: ConnectionConfig): Promise<boolean> {
      const { id, entityId, configVersion } = config.connection;
      return (await orm.em.fork().count(IdpConnection, { id, entityId, configVersion })) === 1;
    },
  };
}
export type Configurations = ReturnType<typeof createConfigurations>;
