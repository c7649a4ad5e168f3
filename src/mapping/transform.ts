import { AppError, type ErrorCode, ErrorCodes } from '../errors.js';

/** What a transform sees of one sign-in. */
export interface TransformInput {
  value: string | string[] | null;
  values: string[];
  attributes: Record<string, string[]>;
  nameId: string;
}

/**
 * The part of the plugin registry (src/plugins) the mapping engine uses. Structural, so the engine
 * and its tests depend on the contract, not on the worker pool behind it.
 */
export interface TransformPlugins {
  validateParams(name: string, params: unknown): unknown;
  /** Several at once, as one job for one worker; each result or its error, in order. */
  evaluateMany(
    items: readonly { name: string; params: unknown; input: TransformInput }[],
  ): Promise<({ ok: true; value: unknown } | { ok: false; error: unknown })[]>;
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

/** A plugin as the admin API lists it (the admin form is built from `paramsJsonSchema`). */
export interface PluginInfo {
  name: string;
  version: string;
  description: string;
  paramsJsonSchema: unknown;
}

/** The plugin registry as the app uses it: list, validate parameters, evaluate. */
export interface PluginCatalog extends TransformPlugins {
  list(): PluginInfo[];
  get(name: string): PluginInfo | undefined;
}
