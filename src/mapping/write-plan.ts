import type { FieldChange } from '../audit/provisioning-event.entity.js';
import type { MappedValue } from './engine.js';

export type ContactRow = Record<string, unknown>;

const isEmpty = (v: unknown): boolean =>
  v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Which mapped values a sign-in writes, by each mapping's write policy. A new contact takes them
 * all; an existing one is refreshed per column: ALWAYS when the value changed, IF_EMPTY only into an
 * empty column, ON_CREATE never. Shared by the sign-in and the preview, so the two cannot disagree.
 */
export function planContactWrite(
  current: ContactRow | null,
  mapped: readonly MappedValue[],
): { writes: MappedValue[]; changes: FieldChange[] } {
  const writes = mapped.filter((m) => {
    if (m.value === null) return false;
    if (!current) return true;
    const old = current[m.field.column];
    switch (m.rule.writePolicy) {
      case 'ON_CREATE':
        return false;
      case 'IF_EMPTY':
        return isEmpty(old);
      default:
        return !same(old, m.value);
    }
  });
  const changes = writes.map((m) => ({
    column: m.field.name,
    old: current ? (current[m.field.column] ?? null) : null,
    new: m.value,
    mappingId: m.rule.id,
  }));
  return { writes, changes };
}

/**
 * Contact values as jitprov_provision writes them: built-in columns by column name, admin-defined
 * fields nested under `custom` by name (merged into the contact's custom JSON, not replacing it).
 */
export function contactValues(writes: readonly MappedValue[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const custom: Record<string, unknown> = {};
  for (const m of writes) {
    if (m.field.custom) custom[m.field.name] = m.value;
    else values[m.field.column] = m.value;
  }
  if (Object.keys(custom).length > 0) values.custom = custom;
  return values;
}

/**
 * A contact row with each admin-defined field also under its column key (`custom.<name>`), so that
 * plans and previews read built-in and admin-defined fields alike (`row[field.column]`).
 */
export function flattenContact(row: ContactRow | null): ContactRow | null {
  if (!row) return null;
  const custom = (row.custom ?? {}) as Record<string, unknown>;
  const flat: ContactRow = { ...row };
  for (const [name, value] of Object.entries(custom)) flat[`custom.${name}`] = value;
  return flat;
}
