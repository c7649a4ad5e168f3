import { AppError } from '../errors.js';
import { type ContactField, findContactField } from '../users/contact-fields.js';
import { type ContactValue, coerceToField } from './coerce.js';
import type { MappingKind, MultiValuePolicy, WritePolicy } from './mapping.entity.js';
import { fromPluginError, type TransformPlugins } from './transform.js';

/** The part of a stored mapping the engine needs. */
export interface MappingRule {
  id: string;
  kind: MappingKind;
  attributeName?: string | null;
  column: string;
  plugin?: string | null;
  params?: Record<string, unknown> | null;
  required: boolean;
  defaultValue?: string | string[] | null;
  multiValue: MultiValuePolicy;
  separator: string;
  writePolicy: WritePolicy;
}

export interface MappedValue {
  rule: MappingRule;
  field: ContactField;
  /** null: the attribute was absent and no default applies (the column is left as it is). */
  value: ContactValue;
}

export interface MappingOutcome extends MappedValue {
  error: AppError | null;
}

export interface SignInAttributes {
  nameId: string;
  attributes: Record<string, string[]>;
}

/**
 * Computes every mapping's column value from one sign-in's attributes. Pure: it reads no database,
 * so it runs before the provisioning transaction opens and keeps that transaction short. Each
 * mapping's failure is reported on its own outcome (the preview shows them all; a sign-in is
 * refused by the first).
 */
export async function evaluateMappings(
  rules: readonly MappingRule[],
  input: SignInAttributes,
  plugins: TransformPlugins,
): Promise<MappingOutcome[]> {
  const transformed = await runTransforms(rules, input, plugins);
  return rules.map((rule, i) => {
    const field = findContactField(rule.column);
    if (!field) {
      // Mappings are validated when written; a column can only vanish with a code change.
      const error = new AppError('MAPPING_INVALID', `mapping targets unknown column "${rule.column}"`, {
        mappingId: rule.id,
        column: rule.column,
      });
      return { rule, field: { name: rule.column } as ContactField, value: null, error };
    }
    try {
      return { rule, field, value: evaluateOne(rule, field, input, transformed[i]), error: null };
    } catch (e) {
      return { rule, field, value: null, error: fromPluginError(e) };
    }
  });
}

type Transformed = { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;

/**
 * Every TRANSFORM mapping's plugin result, by rule index: one job for the plugin workers (one
 * message each way per sign-in, not one per transform).
 */
async function runTransforms(
  rules: readonly MappingRule[],
  input: SignInAttributes,
  plugins: TransformPlugins,
): Promise<Transformed[]> {
  const indexes = rules.flatMap((r, i) => (r.kind === 'TRANSFORM' && findContactField(r.column) ? [i] : []));
  const calls = indexes.map((i) => {
    const rule = rules[i] as MappingRule;
    const present = presentValues(rule, input);
    return {
      name: rule.plugin ?? '',
      params: rule.params ?? {},
      input: {
        value: present.length === 0 ? null : present.length === 1 ? (present[0] as string) : present,
        values: present,
        attributes: input.attributes,
        nameId: input.nameId,
      },
    };
  });
  const results: Transformed[] = await plugins.evaluateMany(calls);
  const byRule: Transformed[] = rules.map(() => undefined);
  indexes.forEach((ruleIndex, k) => {
    byRule[ruleIndex] = results[k];
  });
  return byRule;
}

/** The mapped attribute's non-blank values. */
function presentValues(rule: MappingRule, input: SignInAttributes): string[] {
  const attr = rule.attributeName ?? null;
  const values = attr && Object.hasOwn(input.attributes, attr) ? (input.attributes[attr] ?? []) : [];
  return values.filter((v) => v.trim() !== '');
}

/** The sign-in's view: every value, or the first failure in mapping order. */
export async function applyMappings(
  rules: readonly MappingRule[],
  input: SignInAttributes,
  plugins: TransformPlugins,
): Promise<MappedValue[]> {
  const outcomes = await evaluateMappings(rules, input, plugins);
  const failed = outcomes.find((o) => o.error);
  if (failed?.error) throw failed.error;
  return outcomes.filter((o) => o.value !== null);
}

const describe = (rule: MappingRule): string =>
  rule.kind === 'TRANSFORM' ? `transform "${rule.plugin}"` : `attribute "${rule.attributeName}"`;

function evaluateOne(
  rule: MappingRule,
  field: ContactField,
  input: SignInAttributes,
  transformed: Transformed,
): ContactValue {
  const attr = rule.attributeName ?? null;
  const ctx = { mappingId: rule.id, attributeName: attr ?? rule.plugin ?? '' };

  let raw: string[];
  if (rule.kind === 'TRANSFORM') {
    if (!transformed?.ok) {
      const cause = transformed ? transformed.error : new Error('the transform did not run');
      const error = fromPluginError(cause);
      throw new AppError(
        error.code,
        `mapping to column "${field.name}" (${describe(rule)}): ${error.message}`,
        { mappingId: rule.id, column: field.name, plugin: rule.plugin },
        { cause },
      );
    }
    raw = toStrings(transformed.value);
  } else {
    raw = presentValues(rule, input);
  }

  if (raw.length === 0) {
    if (rule.required) {
      throw new AppError(
        'REQUIRED_ATTRIBUTE_MISSING',
        `required ${describe(rule)} (for column "${field.name}") gave no value`,
        { mappingId: rule.id, attribute: attr, column: field.name },
      );
    }
    if (rule.defaultValue === null || rule.defaultValue === undefined) return null;
    raw = Array.isArray(rule.defaultValue) ? rule.defaultValue : [rule.defaultValue];
  }
  if (!field.multiValued && raw.length > 1) {
    if (rule.multiValue === 'FIRST') raw = raw.slice(0, 1);
    else if (rule.multiValue === 'JOIN') raw = [raw.join(rule.separator)];
  }
  return coerceToField(raw, field, ctx);
}

/** A transform's result as column values: null/'' are absent, scalars become strings. */
function toStrings(result: unknown): string[] {
  if (result === null || result === undefined) return [];
  const items = Array.isArray(result) ? result : [result];
  return items
    .filter((v) => v !== null && v !== undefined)
    .map((v) => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)))
    .filter((v) => v.trim() !== '');
}
