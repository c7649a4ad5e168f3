/**
 * The transform plugin kit: the contract between jitprov and the plugin files under `plugins/`.
 * A plugin file imports this module and, besides it, only the pure packages listed in
 * ALLOWED_PACKAGES; the loader refuses any other import with a static check. `z` is part of the
 * contract rather than a convenience: the parameter schema must be built with the very zod the
 * host checks it with. Keep this module free of I/O: plugins are loaded in worker threads.
 * `kit/testing.ts` is the other half of the author's surface (plugin tests); the rest of `kit/`
 * implements the two and is shared with the host, which imports the kit and never the reverse.
 *
 * Semver: a new export or an optional field is a minor bump; a removed or changed one is a major.
 * 2.0.0: the libphonenumber-js functions are no longer re-exported (import the package itself); an
 * absent attribute reaches the expression as "no value" (undefined), no longer as null.
 */
import { z } from 'zod';

export { z };

export const KIT_VERSION = '2.0.0';

/**
 * Packages a plugin may import directly: pure (no I/O, no globals), with their data bundled. A
 * library joins this list only after that has been checked; everything else stays refused.
 */
export const ALLOWED_PACKAGES: readonly string[] = Object.freeze(['libphonenumber-js']);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a transform sees of one sign-in, for one mapping. */
export interface TransformInput {
  /**
   * The mapped attribute's value: the single value, the array when several, null when absent. The
   * expression sees an absent value as JSONata's "no value" (`$exists($value)` is false), so that
   * built-in functions over it give no value rather than a type error.
   */
  value: string | string[] | null;
  /** The mapped attribute's values, always an array (empty when absent). */
  values: string[];
  /** Every attribute of the assertion by its exact name, each as an array of values. */
  attributes: Record<string, string[]>;
  /** The assertion's NameID (the username). */
  nameId: string;
}

/** An example's input: omitted parts default (`values` from `value` and back, `{}`, `''`). */
export interface ExampleInput {
  value?: string | string[] | null;
  values?: string[];
  attributes?: Record<string, string[]>;
  nameId?: string;
}

interface ExampleBase<P> {
  description: string;
  input: ExampleInput;
  params: P;
}

/**
 * A worked example: documentation for the admin form and a test case. Either the `output` the
 * transform returns (JSONata's "no result" is `null`) or, for a refusal, `fails` with a fragment
 * of the TRANSFORM_FAILED message.
 */
export type TransformExample<P> =
  | (ExampleBase<P> & { output: JsonValue; fails?: never })
  | (ExampleBase<P> & { fails: string; output?: never });

export interface TransformHelper {
  /**
   * A pure, synchronous function registered into JSONata as `$<name>`. Throwing fails the transform
   * with the error's message (TRANSFORM_FAILED). It must not reach files, network or the process.
   */
  fn: (...args: never[]) => unknown;
  /** JSONata function signature, e.g. `<s:s>` or `<ss?:s>`, checked when the plugin loads. */
  signature: string;
}

export type ParamsSchema = z.ZodObject;

export interface TransformDefinition<P extends ParamsSchema = ParamsSchema> {
  /** Unique, a-z 0-9 and dashes; what mappings refer to. */
  name: string;
  /** The plugin's own version (semver). */
  version: string;
  /** The kit versions this plugin works with (a semver range satisfied by KIT_VERSION). */
  kit: string;
  description: string;
  /** Parameter schema: validates a mapping's parameters and becomes the admin form's JSON Schema. */
  params: P;
  /**
   * JSONata. Sees `$value`, `$values`, `$attributes`, `$nameId`, `$params` (parsed by `params`) and
   * the helpers as `$<name>`. The expression's own input (`$`) is `$value`.
   */
  expression: string;
  helpers?: Readonly<Record<string, TransformHelper>>;
  /** At least one; every example runs in the plugin tests. */
  examples: readonly TransformExample<z.input<P>>[];
}

/** Declares a transform plugin; a plugin file default-exports the result. */
export function defineTransform<P extends ParamsSchema>(
  definition: TransformDefinition<P>,
): TransformDefinition<P> {
  return Object.freeze({ ...definition });
}

/** Fills an example's omitted input parts the way a sign-in would present them. */
export function toTransformInput(input: ExampleInput): TransformInput {
  const values = input.values ?? valuesOf(input.value ?? null);
  const value = input.value !== undefined ? input.value : singleOrList(values);
  return { value, values, attributes: input.attributes ?? {}, nameId: input.nameId ?? '' };
}

function valuesOf(value: string | string[] | null): string[] {
  if (value === null) return [];
  return Array.isArray(value) ? [...value] : [value];
}

/** The `$value` of a values list: null when empty, the single value, or the whole array. */
export function singleOrList(values: readonly string[]): string | string[] | null {
  if (values.length === 0) return null;
  if (values.length === 1) return values[0] ?? null;
  return [...values];
}
