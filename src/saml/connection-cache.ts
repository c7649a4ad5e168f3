import type { MikroORM } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';

/** A connection and its attribute mappings, as read at one configuration version. */
export interface ConnectionConfig {
  connection: IdpConnection;
  rules: AttributeMapping[];
  /** Served from memory: may be older than the database (the transaction finds out). */
  cached: boolean;
}

/**
 * Connections and their mappings by entity id, kept in memory between sign-ins instead of read on
 * each one. Never trusted blindly: the provisioning transaction compares the connection's
 * config_version (bumped by the database on any change, from any process) with the one read here
 * and starts over on a mismatch, and a refusal based on a cached configuration is only given after
 * `isCurrent` has confirmed it. Bounded: a connection not found is not remembered, and there are
 * only as many entries as connections.
 */
export function createConnectionCache(orm: MikroORM) {
  const byEntityId = new Map<string, ConnectionConfig>();

  async function load(entityId: string): Promise<ConnectionConfig | null> {
    const em = orm.em.fork();
    const connection = await em.findOne(IdpConnection, { entityId });
    if (!connection) {
      byEntityId.delete(entityId);
      return null;
    }
    const rules = await em.find(
      AttributeMapping,
      { connection: connection.id },
      { orderBy: { position: 'asc' } },
    );
    byEntityId.set(entityId, { connection, rules, cached: true });
    return { connection, rules, cached: false };
  }

  return {
    /** The configuration for an issuer: from memory when there, else read (and kept). */
    async get(entityId: string): Promise<ConnectionConfig | null> {
      return byEntityId.get(entityId) ?? load(entityId);
    },
    /** Reads the configuration again, whatever memory holds. */
    reload: load,
    /** Whether a cached configuration is still the database's (one indexed read). */
    async isCurrent(config: ConnectionConfig): Promise<boolean> {
      const rows = await orm.em
        .fork()
        .execute<{ config_version: number }[]>(
          'select config_version from idp_connection where id = ? and entity_id = ?',
          [config.connection.id, config.connection.entityId],
        );
      return rows[0]?.config_version === config.connection.configVersion;
    },
  };
}
export type ConnectionCache = ReturnType<typeof createConnectionCache>;
