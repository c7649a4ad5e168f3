import type jsonata from 'jsonata';
import { asErrorLike, tryCompile } from './compile.js';
import type { LoadedPlugin } from './definition.js';
import type { TransformErrorCode, TransformFailureReason } from './errors.js';
import type { JsonValue, TransformInput } from './index.js';
import { Lru } from './lru.js';

export interface EvaluationLimits {
  /** JSONata's own time limit per evaluation, checked between expression nodes. */
  timeoutMs: number;
  /** JSONata's evaluation depth limit (nested nodes, including recursive calls). */
  maxDepth: number;
  /** Longest sequence (array) an evaluation may build; bounds memory as much as time. */
  maxSequence: number;
  /** How many distinct inline expressions stay compiled. */
  expressionCacheSize: number;
}

export type EvalOutcome =
  | { ok: true; value: JsonValue }
  | { ok: false; code: TransformErrorCode; reason: TransformFailureReason; message: string };

export interface Evaluator {
  evaluate(plugin: string, params: unknown, input: TransformInput): Promise<EvalOutcome>;
}

const MAX_RESULT_DEPTH = 32;

// `$eval` would run text from the IdP's attributes as code; transforms get no use of it.
const noEval = (): never => {
  throw new Error('$eval is not available in transforms');
};

class ResultError extends Error {}

/** Plain JSON out of a JSONata result: sequences become arrays, "no result" becomes null. */
function toJson(value: unknown, depth = 0): JsonValue {
  if (depth > MAX_RESULT_DEPTH) throw new ResultError('the result is nested too deeply');
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new ResultError('the result is not a finite number');
      return value;
    case 'function':
      throw new ResultError('the result is a function, not a value');
    case 'object': {
      if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1));
      // fromEntries defines own properties: a key "__proto__" stays data, never a prototype.
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v, depth + 1)]));
    }
    default:
      throw new ResultError(`the result is a ${typeof value}, not a JSON value`);
  }
}

function failure(
  plugin: string,
  reason: TransformFailureReason,
  cause: string,
  code: TransformErrorCode = 'TRANSFORM_FAILED',
): EvalOutcome {
  return { ok: false, code, reason, message: `transform plugin "${plugin}": ${cause}` };
}

function describeError(plugin: string, e: unknown, limits: EvaluationLimits): EvalOutcome {
  if (e instanceof ResultError) return failure(plugin, 'result', e.message);
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return failure(plugin, 'depth', 'the evaluation recursed too deeply');
  }
  const err = asErrorLike(e);
  const text = typeof err.message === 'string' && err.message !== '' ? err.message : String(e);
  switch (err.code) {
    case 'D1012':
      return failure(plugin, 'timeout', `ran longer than ${limits.timeoutMs} ms`, 'TRANSFORM_TIMEOUT');
    case 'D1011':
      return failure(plugin, 'depth', `recursed deeper than the limit of ${limits.maxDepth}`);
    case 'D2014':
    case 'D2015':
      return failure(
        plugin,
        'error',
        `built a sequence longer than the limit of ${limits.maxSequence} items`,
      );
    case 'D3137': // $error("…"): the author's own message
    case undefined:
      return failure(plugin, 'error', text);
    default: {
      const where = typeof err.position === 'number' ? ` at position ${err.position}` : '';
      return failure(plugin, 'error', `${text} (JSONata ${String(err.code)}${where})`);
    }
  }
}

/**
 * Runs plugins in the current thread with JSONata's soft limits. The pool's workers use this; the
 * hard deadline is theirs to enforce. Compiled expressions are cached: per plugin, and per string
 * for the built-in inline `expression` plugin (bounded).
 */
export function createEvaluator(plugins: readonly LoadedPlugin[], limits: EvaluationLimits): Evaluator {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const compiledByPlugin = new Map<string, jsonata.Expression>();
  const compiledInline = new Lru<string, jsonata.Expression>(limits.expressionCacheSize);
  const options = { timeout: limits.timeoutMs, stack: limits.maxDepth, sequence: limits.maxSequence };

  const compile = (plugin: LoadedPlugin, source: string): jsonata.Expression | string => {
    const cache = plugin.expression === null ? compiledInline : undefined;
    const hit = cache ? cache.get(source) : compiledByPlugin.get(plugin.name);
    if (hit) return hit;
    const result = tryCompile(source, options);
    if (!result.ok) return `expression does not compile: ${result.failure.message}`;
    for (const [name, helper] of Object.entries(plugin.helpers)) {
      result.expression.registerFunction(
        name,
        helper.fn as (...args: unknown[]) => unknown,
        helper.signature,
      );
    }
    if (cache) cache.set(source, result.expression);
    else compiledByPlugin.set(plugin.name, result.expression);
    return result.expression;
  };

  return {
    async evaluate(name, rawParams, input) {
      const plugin = byName.get(name);
      if (!plugin) return failure(name, 'params', 'no such plugin is loaded');
      const parsed = plugin.params.safeParse(rawParams);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
        return failure(name, 'params', `invalid parameters: ${where}${issue?.message ?? 'invalid'}`);
      }
      const params = parsed.data as Record<string, unknown>;
      const source = plugin.expression ?? params.expression;
      if (typeof source !== 'string') return failure(name, 'params', 'no expression to evaluate');
      const expression = compile(plugin, source);
      if (typeof expression === 'string') return failure(name, 'params', expression);
      // An absent attribute is JSONata's "no value" (undefined), not null: the built-in functions
      // then give "no value" too ($uppercase($) is undefined) instead of a type error (T0410).
      const value = input.value ?? undefined;
      try {
        const result: unknown = await expression.evaluate(value, {
          value,
          values: input.values,
          attributes: input.attributes,
          nameId: input.nameId,
          params,
          eval: noEval,
        });
        return { ok: true, value: toJson(result) };
      } catch (e) {
        return describeError(name, e, limits);
      }
    },
  };
}
