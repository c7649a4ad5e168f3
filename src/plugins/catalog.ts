import type { LoadedExample, LoadedPlugin } from '../../kit/definition.js';
import { type ParamsIssue, PluginParamsError } from '../../kit/errors.js';
import { z } from '../../kit/index.js';
import { loadDefinitions } from './discover.js';

/** A plugin as the admin API lists it (the admin form is built from `paramsJsonSchema`). */
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

/**
 * The loaded plugins as the main thread knows them: what there is, and whether a mapping's
 * parameters are valid. Evaluation is the workers' (src/workers).
 */
export interface PluginCatalog {
  list(): PluginInfo[];
  get(name: string): PluginInfo | undefined;
  /**
   * Checks a mapping's plugin and parameters; returns the parsed parameters (defaults applied).
   * Throws PluginParamsError: PLUGIN_NOT_FOUND, PLUGIN_PARAMS_INVALID or EXPRESSION_INVALID, with
   * the path of the first offending parameter, relative to the params object.
   */
  validateParams(name: string, params: unknown): unknown;
  /** name@version#hash of every plugin, sorted: what a worker must find when it loads them. */
  readonly keys: readonly string[];
}

/** A plugin's identity for the workers: name, version and the hash of the source that was checked. */
export const pluginKey = (p: { name: string; version: string; sourceHash?: string }): string =>
  `${p.name}@${p.version}#${p.sourceHash?.slice(0, 16) ?? 'built-in'}`;

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

export function createCatalog(plugins: readonly LoadedPlugin[]): PluginCatalog {
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
  return {
    list: () => [...infos.values()],
    get: (name) => infos.get(name),
    keys: Object.freeze(plugins.map(pluginKey).sort()),
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
  };
}

/**
 * Discovers, checks and imports every plugin in `dir` (plus the built-in `expression` plugin).
 * Rejects with a PluginLoadError naming the file and the fault for the first bad plugin.
 */
export async function loadCatalog(dir: string): Promise<PluginCatalog> {
  return createCatalog(await loadDefinitions(dir));
}
