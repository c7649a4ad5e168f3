import { AppError } from '../errors.js';
import { type ContactValue, coerceToField } from './coerce.js';
import { type ContactField, findContactField } from './contact-fields.js';

/** The part of a stored mapping the engine needs. */
export interface MappingRule {
  id: string;
  attributeName: string;
  column: string;
  required: boolean;
}

export interface MappedValue {
  field: ContactField;
  value: ContactValue;
  mappingId: string;
}

/**
 * Computes contact column values from a sign-in's attributes, in mapping order. Attribute names
 * match exactly as the IdP sent them. A missing required attribute is refused; a missing optional
 * one leaves its column out (existing values are kept).
 */
export function applyMappings(
  rules: readonly MappingRule[],
  attributes: Record<string, string[]>,
): MappedValue[] {
  const out: MappedValue[] = [];
  for (const rule of rules) {
    const field = findContactField(rule.column);
    if (!field) {
      // Mappings are validated when written; a column can only vanish with a code change.
      throw new AppError('MAPPING_INVALID', `mapping ${rule.id} targets unknown column "${rule.column}"`, {
        mappingId: rule.id,
        column: rule.column,
      });
    }
    const values = Object.hasOwn(attributes, rule.attributeName)
      ? (attributes[rule.attributeName] ?? [])
      : [];
    const value = coerceToField(values, field, { mappingId: rule.id, attributeName: rule.attributeName });
    if (value === null) {
      if (rule.required) {
        throw new AppError(
          'REQUIRED_ATTRIBUTE_MISSING',
          `required attribute "${rule.attributeName}" (for column "${field.name}") is missing`,
          { mappingId: rule.id, attribute: rule.attributeName, column: field.name },
        );
      }
      continue;
    }
    out.push({ field, value, mappingId: rule.id });
  }
  return out;
}
