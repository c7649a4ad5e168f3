import type { MappingFallback } from '../audit/provisioning-event.entity.js';
import { AppError, type ErrorCode, ErrorCodes } from '../errors.js';
import { type ContactField, findContactField } from '../users/contact-fields.js';
import { type ContactValue, coerceToField } from './coerce.js';
import type { MappingRule } from './rule.js';

import {
  presentValues,
  type TransformResult,
  type TransformRunner,
  transformItems,
  transformSpecs,
} from './transform-calls.js';

export interface MappedValue {
  rule: MappingRule;
  field: ContactField;
  /** null: the attribute was absent and no default applies (the column is left as it is). */
  value: ContactValue;
}

export interface MappingOutcome extends MappedValue {
  /** Why the mapping could not produce its value (also when it fell back). */
  error: AppError | null;
  /** Set when the error did not refuse: the column kept (value null) or took the default. */
  fallback: MappingFallback | null;
}

export interface SignInAttributes {
  nameId: string;
  attributes: Record<string, string[]>;
}

/**
 * Computes every mapping's column value from one sign-in's attributes. It reads no database, so it
 * runs before the provisioning transaction opens and keeps that transaction short. Each mapping's
 * failure is reported on its own outcome (the preview shows them all; a sign-in is refused by the
 * first). `transforms` holds the results of the rules' TRANSFORM mappings in rule order (see
 * transformSpecs): computed by the workers, beside the SAML validation when they can.
 */
export function mapValues(
  rules: readonly MappingRule[],
  input: SignInAttributes,
  transforms: readonly TransformResult[],
  custom: readonly ContactField[] = [],
): MappingOutcome[] {
  const { ruleIndexes } = transformSpecs(rules);
  const byRule = new Map(ruleIndexes.map((ruleIndex, k) => [ruleIndex, transforms[k]]));
  return rules.map((rule, i) => {
    const field = findContactField(rule.column, custom);
    if (!field) {
      // Mappings are validated when written; a column can only vanish with a code change.
      const error = new AppError('MAPPING_INVALID', `mapping targets unknown column "${rule.column}"`, {
        mappingId: rule.id,
        column: rule.column,
      });
      return { rule, field: { name: rule.column } as ContactField, value: null, error, fallback: null };
    }
    try {
      return {
        rule,
        field,
        value: evaluateOne(rule, field, input, byRule.get(i)),
        error: null,
        fallback: null,
      };
    } catch (e) {
      return fallBack(rule, field, fromPluginError(e));
    }
  });
}

/** A failed mapping by its failure policy: refused (no fallback), kept, or its default value. */
function fallBack(rule: MappingRule, field: ContactField, error: AppError): MappingOutcome {
  if (rule.onFailure === 'REFUSE') return { rule, field, value: null, error, fallback: null };
  let value: ContactValue = null;
  if (rule.onFailure === 'DEFAULT' && rule.defaultValue !== null && rule.defaultValue !== undefined) {
    const raw = Array.isArray(rule.defaultValue) ? rule.defaultValue : [rule.defaultValue];
    // Checked against the column when the mapping was written; a column change could still refuse it.
    try {
      value = coerceToField(raw, field, { mappingId: rule.id, attributeName: 'defaultValue' });
    } catch (e) {
      return { rule, field, value: null, error: fromPluginError(e), fallback: null };
    }
  }
  const policy = value === null ? 'KEEP' : 'DEFAULT';
  return {
    rule,
    field,
    value,
    error,
    fallback: { mappingId: rule.id, column: field.name, policy, code: error.code, message: error.message },
  };
}

/** The transforms of a mapping set, evaluated through `runner` as one job, then every value. */
export async function evaluateMappings(
  rules: readonly MappingRule[],
  input: SignInAttributes,
  runner: TransformRunner,
  custom: readonly ContactField[] = [],
): Promise<MappingOutcome[]> {
  const { specs } = transformSpecs(rules);
  const results = specs.length > 0 ? await runner.transform(transformItems(specs, input)) : [];
  return mapValues(rules, input, results, custom);
}

/**
 * The sign-in's view: every value and every fallback, or the first refusing failure in mapping
 * order (a mapping whose policy is REFUSE).
 */
export function valuesOrFailure(outcomes: readonly MappingOutcome[]): {
  values: MappedValue[];
  fallbacks: MappingFallback[];
} {
  const refused = outcomes.find((o) => o.error && !o.fallback);
  if (refused?.error) throw refused.error;
  return {
    values: outcomes.filter((o) => o.value !== null),
    fallbacks: outcomes.flatMap((o) => (o.fallback ? [o.fallback] : [])),
  };
}

const describe = (rule: MappingRule): string =>
  rule.kind === 'TRANSFORM' ? `transform "${rule.plugin}"` : `attribute "${rule.attributeName}"`;

function evaluateOne(
  rule: MappingRule,
  field: ContactField,
  input: SignInAttributes,
  transformed: TransformResult | undefined,
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
    raw = presentValues(rule.attributeName, input);
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

/** Plugin errors carry a code from the catalog; anything else from a plugin is TRANSFORM_FAILED. */
export function fromPluginError(e: unknown, path: (string | number)[] = []): AppError {
  if (e instanceof AppError) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as {
    code?: unknown;
    message?: unknown;
    path?: unknown;
  };
  const code =
    typeof o.code === 'string' && o.code in ErrorCodes ? (o.code as ErrorCode) : 'TRANSFORM_FAILED';
  const message = typeof o.message === 'string' ? o.message : 'transform plugin failed';
  const subPath = Array.isArray(o.path) ? (o.path as (string | number)[]) : [];
  return new AppError(code, message, { path: [...path, ...subPath] }, { cause: e });
}
