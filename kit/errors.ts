/**
 * Typed failures of the plugin system. Codes are stable (callers and the error catalog match on
 * them); messages name the plugin file or the plugin and the cause, never a stack trace.
 */

/** Why the loader refused a plugin file (the server then refuses to start). */
export const PluginLoadErrorCodes = {
  PLUGIN_DIR_UNREADABLE: 'plugin directory cannot be read',
  PLUGIN_FORBIDDEN_IMPORT: 'plugin imports something other than the plugin kit',
  PLUGIN_FORBIDDEN_IDENTIFIER: 'plugin source uses a forbidden identifier',
  PLUGIN_IMPORT_FAILED: 'plugin module failed to import',
  PLUGIN_NO_DEFAULT_EXPORT: 'plugin has no default export',
  PLUGIN_INVALID_DEFINITION: 'plugin definition is malformed',
  PLUGIN_INVALID_NAME: 'plugin name is invalid',
  PLUGIN_DUPLICATE_NAME: 'plugin name is already taken',
  PLUGIN_INVALID_VERSION: 'plugin version is not semver',
  PLUGIN_KIT_INCOMPATIBLE: 'plugin needs another plugin kit version',
  PLUGIN_EXPRESSION_INVALID: 'plugin expression does not compile',
  PLUGIN_HELPER_INVALID: 'plugin helper is invalid',
  PLUGIN_EXAMPLE_INVALID: 'plugin example is invalid',
  PLUGIN_WORKER_FAILED: 'plugin worker could not start',
} as const;

export type PluginLoadErrorCode = keyof typeof PluginLoadErrorCodes;

export class PluginLoadError extends Error {
  override readonly name = 'PluginLoadError';
  constructor(
    readonly code: PluginLoadErrorCode,
    /** The offending file, relative to the working directory when inside it. */
    readonly file: string,
    /** The fault alone, without the file. */
    readonly fault: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${fault}`, options);
  }
}

export const PluginParamsErrorCodes = {
  PLUGIN_NOT_FOUND: 'transform plugin not found',
  PLUGIN_PARAMS_INVALID: 'transform parameters invalid',
  EXPRESSION_INVALID: 'transform expression does not compile',
} as const;

export type PluginParamsErrorCode = keyof typeof PluginParamsErrorCodes;

export interface ParamsIssue {
  path: (string | number)[];
  message: string;
}

/** A mapping's plugin reference or parameters were refused (at mapping-write time). */
export class PluginParamsError extends Error {
  override readonly name = 'PluginParamsError';
  constructor(
    readonly code: PluginParamsErrorCode,
    message: string,
    /** Path of the first offending parameter, relative to the params object. */
    readonly path: (string | number)[] = [],
    /** Every issue found, first one first. */
    readonly issues: ParamsIssue[] = [],
  ) {
    super(message);
  }
}

export const TransformErrorCodes = {
  TRANSFORM_FAILED: 'transform failed',
  TRANSFORM_TIMEOUT: 'transform ran too long',
} as const;

export type TransformErrorCode = keyof typeof TransformErrorCodes;

/**
 * Finer cause for logs and audit rows: `error` (the expression or a helper failed), `depth`
 * (recursed deeper than the limit), `result` (returned something that is not JSON), `params`,
 * `timeout` (JSONata's own time limit), `deadline` (the worker was stopped), `crash` (the worker
 * died), `unavailable` (no worker could run it).
 */
export type TransformFailureReason =
  | 'error'
  | 'depth'
  | 'result'
  | 'params'
  | 'timeout'
  | 'deadline'
  | 'crash'
  | 'unavailable';

export class TransformError extends Error {
  override readonly name = 'TransformError';
  constructor(
    readonly code: TransformErrorCode,
    message: string,
    readonly plugin: string,
    readonly reason: TransformFailureReason,
  ) {
    super(message);
  }
}

export const isTransformError = (e: unknown): e is TransformError => e instanceof TransformError;
export const isPluginParamsError = (e: unknown): e is PluginParamsError => e instanceof PluginParamsError;
export const isPluginLoadError = (e: unknown): e is PluginLoadError => e instanceof PluginLoadError;
