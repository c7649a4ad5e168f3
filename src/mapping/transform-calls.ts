import type { TransformError } from '../../kit/errors.js';
import type { JsonValue, TransformInput } from '../../kit/index.js';
import type { MappingRule } from './rule.js';

/**
 * What the transforms of a mapping set need to run, and how a sign-in's attributes become their
 * inputs. Kept free of runtime imports: the worker threads run it next to the SAML validation, so
 * that a sign-in's validation and transforms travel in one job.
 */

/** A TRANSFORM mapping as the workers see it: which plugin, its parameters, which attribute. */
export interface TransformSpec {
  plugin: string;
  params: Record<string, unknown>;
  attributeName: string | null;
}

/** One transform evaluation. */
export interface TransformItem {
  plugin: string;
  params: unknown;
  input: TransformInput;
}

/** A transform's result: its value, or why it failed (code, plugin, reason). */
export type TransformResult = { ok: true; value: JsonValue } | { ok: false; error: TransformError };

/** What evaluates transforms: the worker pool (src/workers), as one job for a list of items. */
export interface TransformRunner {
  transform(items: readonly TransformItem[]): Promise<TransformResult[]>;
}

/** The identity a transform sees: the NameID (or SCIM userName) and every attribute by name. */
export interface TransformSubject {
  nameId: string;
  attributes: Record<string, string[]>;
}

/** The rules' TRANSFORM mappings, in rule order, with the index of each in `rules`. */
export function transformSpecs(rules: readonly MappingRule[]): {
  ruleIndexes: number[];
  specs: TransformSpec[];
} {
  const ruleIndexes: number[] = [];
  const specs: TransformSpec[] = [];
  rules.forEach((rule, i) => {
    if (rule.kind !== 'TRANSFORM') return;
    ruleIndexes.push(i);
    specs.push({
      plugin: rule.plugin ?? '',
      params: rule.params ?? {},
      attributeName: rule.attributeName ?? null,
    });
  });
  return { ruleIndexes, specs };
}

/** An attribute's non-blank values (none when the IdP did not send it). */
export function presentValues(attributeName: string | null | undefined, subject: TransformSubject): string[] {
  const values =
    attributeName && Object.hasOwn(subject.attributes, attributeName)
      ? (subject.attributes[attributeName] ?? [])
      : [];
  return values.filter((v) => v.trim() !== '');
}

/** The evaluations the specs make of one identity, as the plugin contract presents them. */
export function transformItems(specs: readonly TransformSpec[], subject: TransformSubject): TransformItem[] {
  return specs.map((spec) => {
    const present = presentValues(spec.attributeName, subject);
    return {
      plugin: spec.plugin,
      params: spec.params,
      input: {
        value: present.length === 0 ? null : present.length === 1 ? (present[0] as string) : present,
        values: present,
        attributes: subject.attributes,
        nameId: subject.nameId,
      },
    };
  });
}
