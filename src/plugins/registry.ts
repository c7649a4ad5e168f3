import type { LoadedExample, LoadedPlugin } from '../../kit/definition.js';
import { type ParamsIssue, PluginParamsError, TransformError } from '../../kit/errors.js';
import { type TransformInput, z } from '../../kit/index.js';
import type { Runner, RunnerStats } from './pool.js';

export interface TransformCall {
  name: string;
  params: unknown;
  input: TransformInput;
}

export type TransformResult = { ok: true; value: unknown } | { ok: false; error: TransformError };

export interface PluginInfo {
  name: string;
  version: string;
  description: string;
  /** True for plugins that ship inside jitprov (`expression`). */
  builtin: boolean;
  /** JSON Schema (draft 2020-12) of the parameters as an admin types them, for the admin form. */
  paramsJsonSchema: unknown;
  /** Worked examples; `input` is filled the way a sign-in presents it. */
  examples: LoadedExample[];
}

export interface PluginRegistry {
  list(): PluginInfo[];
  get(name: string): PluginInfo | undefined;
  /**
   * Checks a mapping's plugin and parameters; returns the parsed parameters (defaults applied).
   * Throws PluginParamsError: PLUGIN_NOT_FOUND, PLUGIN_PARAMS_INVALID or EXPRESSION_INVALID, with
   * the path of the first offending parameter, relative to the params object.
   */
  validateParams(name: string, params: unknown): unknown;
  /**
   * Runs a transform, bounded by the time, depth and hard-deadline limits. Resolves to a JSON value
   * (JSONata's "no result" is null). Throws TransformError: TRANSFORM_FAILED or TRANSFORM_TIMEOUT,
   * with a message naming the plugin and the cause.
   */
  evaluate(name: string, params: unknown, input: TransformInput): Promise<unknown>;
  /**
   * Several transforms (one sign-in's) as one job for one worker: one message each way instead of
   * one per transform. Each gets its own result or TransformError, in order.
   */
  evaluateMany(items: readonly TransformCall[]): Promise<TransformResult[]>;
  /** The evaluation workers right now: for readiness checks, metrics and tests. */
  stats(): RunnerStats;
  /** Stops the workers; evaluations after this fail. */
  close(): Promise<void>;
}

const notLoaded = (name: string): TransformError =>
  new TransformError('TRANSFORM_FAILED', `transform plugin "${name}" is not loaded`, name, 'params');

function paramsJsonSchema(plugin: LoadedPlugin): unknown {
  // Refinements (e.g. "the regex compiles") have no JSON Schema form; the server checks them.
  return z.toJSONSchema(plugin.params, { io: 'input', unrepresentable: 'any' });
}

function toIssues(error: z.ZodError): ParamsIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
    message: issue.message,
  }));
}

function issueCode(error: z.ZodError): 'EXPRESSION_INVALID' | 'PLUGIN_PARAMS_INVALID' {
  const first = error.issues[0];
  const flagged = first?.code === 'custom' && (first.params as { code?: unknown } | undefined)?.code;
  return flagged === 'EXPRESSION_INVALID' ? 'EXPRESSION_INVALID' : 'PLUGIN_PARAMS_INVALID';
}

export function createRegistry(plugins: readonly LoadedPlugin[], runner: Runner): PluginRegistry {
  const byName = new Map(plugins.map((p) => [p.name, p]));
  const infos = new Map<string, PluginInfo>(
    plugins.map((p) => [
      p.name,
      Object.freeze({
        name: p.name,
        version: p.version,
        description: p.description,
        builtin: p.expression === null,
        paramsJsonSchema: paramsJsonSchema(p),
        examples: p.examples,
      }),
    ]),
  );

  async function evaluateMany(items: readonly TransformCall[]): Promise<TransformResult[]> {
    const known = items.filter((i) => byName.has(i.name));
    const outcomes = await runner.runMany(
      known.map((i) => ({ plugin: i.name, params: i.params, input: i.input })),
    );
    let next = 0;
    return items.map((i): TransformResult => {
      if (!byName.has(i.name)) return { ok: false, error: notLoaded(i.name) };
      const outcome = outcomes[next++] as (typeof outcomes)[number];
      return outcome.ok
        ? { ok: true, value: outcome.value }
        : { ok: false, error: new TransformError(outcome.code, outcome.message, i.name, outcome.reason) };
    });
  }

  return {
    list: () => [...infos.values()],
    get: (name) => infos.get(name),

    validateParams(name, params) {
      const plugin = byName.get(name);
      if (!plugin) {
        throw new PluginParamsError('PLUGIN_NOT_FOUND', `no transform plugin is named "${name}"`);
      }
      const parsed = plugin.params.safeParse(params);
      if (parsed.success) return parsed.data;
      const issues = toIssues(parsed.error);
      const first = issues[0] ?? { path: [], message: 'invalid' };
      const where = first.path.length > 0 ? `${first.path.join('.')}: ` : '';
      const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
      throw new PluginParamsError(
        issueCode(parsed.error),
        `parameters of plugin "${name}": ${where}${first.message}${more}`,
        first.path,
        issues,
      );
    },

    async evaluate(name, params, input) {
      const [result] = await evaluateMany([{ name, params, input }]);
      if (result?.ok) return result.value;
      throw (result as { error: TransformError }).error;
    },

    evaluateMany,

    stats: () => runner.stats(),
    close: () => runner.close(),
  };
}
