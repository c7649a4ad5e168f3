import { type EntityMetadata, type EntitySchema, ReferenceKind } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';

type Row = Record<string, unknown>;

/**
 * Read-only objects shaped like an entity — property names, relations as their ids — straight
 * from SQL rows, without the ORM's hydration, identity map and change tracking. For what GraphQL
 * lists only read: building managed entities for a page of 50 contacts with their users and
 * licenses cost more than the queries themselves. Columns map to properties by the entity's own
 * metadata; timestamps become Dates here, as hydration would make them (MikroORM's driver hands
 * them over as text, and the embedded database does too), JSON and arrays come parsed.
 */
export function plainRows<T>(em: EntityManager, entity: EntitySchema<T>): (row: Row) => T {
  const known = mappers.get(entity.meta.className);
  if (known) return known as (row: Row) => T;
  const meta = em.getMetadata().get(entity.meta.className) as EntityMetadata<T>;
  const columns: [string, string, boolean][] = [];
  for (const prop of Object.values(meta.properties) as EntityMetadata<T>['props']) {
    const readable =
      prop.kind === ReferenceKind.SCALAR ||
      prop.kind === ReferenceKind.MANY_TO_ONE ||
      (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner);
    const isDate = prop.runtimeType === 'Date' || /date|time/i.test(String(prop.type));
    if (readable && prop.fieldNames?.length === 1)
      columns.push([prop.fieldNames[0] as string, prop.name, isDate]);
  }
  const mapper = (row: Row): T => {
    const out: Row = {};
    for (const [column, name, isDate] of columns) {
      const value = row[column] ?? null;
      out[name] = isDate && value !== null && !(value instanceof Date) ? new Date(value as string) : value;
    }
    return out as T;
  };
  mappers.set(entity.meta.className, mapper);
  return mapper;
}

// Entity metadata is the same for every ORM instance of the process.
const mappers = new Map<string, (row: Row) => unknown>();
