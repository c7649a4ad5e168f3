import type { MikroORM } from '@mikro-orm/postgresql';
import { IdpConnection } from '../connections/connection.entity.js';
import { LicenseRule } from '../licenses/license-rule.entity.js';
import { type LicenseRuleSpec, licenseRuleSpec } from '../licenses/license-rules.js';
import { AttributeMapping } from '../mapping/mapping.entity.js';
import { type TransformSpec, transformSpecs } from '../mapping/transform-calls.js';
import { type ContactField, loadCustomFields } from '../users/contact-fields.js';
import { Role, RoleRule } from '../users/role.entity.js';
import { ADMIN_ROLE, type RoleRuleSpec, roleRuleSpec } from '../users/roles.js';

/** A connection, its attribute mappings and its rules, as read at one configuration version. */
export interface ConnectionConfig {
  connection: IdpConnection;
  rules: AttributeMapping[];
  /**
   * The transforms the workers run for a sign-in: the rules' TRANSFORM mappings, then the
   * EXPRESSION license rules' expressions (see `mappingTransforms`).
   */
  transforms: TransformSpec[];
  /** How many of `transforms` are the mappings'; the rest are the license rules' expressions, in order. */
  mappingTransforms: number;
  licenseRules: LicenseRuleSpec[];
  roleRules: RoleRuleSpec[];
  /** The built-in admin role's id (null only before the migrations ran). */
  adminRoleId: string | null;
  /** The admin-defined contact fields (a change bumps every connection's configuration version). */
  fields: ContactField[];
  /** Served from memory: may be older than the database (the transaction finds out). */
  cached: boolean;
}

/** An EXPRESSION license rule's expression, run as the built-in `expression` plugin over the attributes. */
const expressionSpec = (rule: LicenseRuleSpec): TransformSpec => ({
  plugin: 'expression',
  params: { expression: rule.expression ?? 'false' },
  attributeName: null,
});

/**
 * Connections and their configuration, kept in memory between provisionings instead of read for
 * each. Never trusted blindly: the provisioning transaction compares the connection's
 * config_version (bumped by the database on any change of the connection, its mappings or its
 * rules, from any process) with the one read here and the core starts over on a mismatch, and a
 * refusal based on a cached configuration is only given after `isCurrent` has confirmed it.
 * Bounded: a connection not found is not remembered, and there are only as many entries as
 * connections.
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
    const [rules, licenseRules, roleRules, admin, fields] = await Promise.all([
      em.find(AttributeMapping, { connection: connection.id }, { orderBy: { position: 'asc' } }),
      em.find(
        LicenseRule,
        { connection: connection.id },
        { orderBy: { position: 'asc' }, populate: ['license'] },
      ),
      em.find(RoleRule, { connection: connection.id }, { orderBy: { groupValue: 'asc' } }),
      em.findOne(Role, { name: ADMIN_ROLE }),
      loadCustomFields(em),
    ]);
    const mappingSpecs = transformSpecs(rules).specs;
    const licenseSpecs = licenseRules.map(licenseRuleSpec);
    const config = {
      connection,
      rules,
      transforms: [
        ...mappingSpecs,
        ...licenseSpecs.filter((r) => r.kind === 'EXPRESSION').map(expressionSpec),
      ],
      mappingTransforms: mappingSpecs.length,
      licenseRules: licenseSpecs,
      roleRules: roleRules.map(roleRuleSpec),
      adminRoleId: admin?.id ?? null,
      fields,
    };
    byEntityId.set(connection.entityId, { ...config, cached: true });
    return { ...config, cached: false };
  }

  return {
    /** The configuration of the connection with this IdP entity id: from memory when there, else read. */
    async byEntityId(entityId: string): Promise<ConnectionConfig | null> {
      return byEntityId.get(entityId) ?? load({ entityId });
    },
    /** The configuration of the connection with this id (roads that name the connection by id): from memory when there. */
    async byId(id: string): Promise<ConnectionConfig | null> {
      for (const config of byEntityId.values()) if (config.connection.id === id) return config;
      return load({ id });
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
