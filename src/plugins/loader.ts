import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedPlugin } from '../../kit/definition.js';
import { PluginLoadError } from '../../kit/errors.js';
import { createEvaluator, type EvaluationLimits } from '../../kit/evaluate.js';
import { displayPath, loadDefinitions } from './discover.js';
import { WorkerPool } from './pool.js';
import { pluginKey } from './protocol.js';
import { createRegistry, type PluginRegistry } from './registry.js';

export type { LoadedExample } from '../../kit/definition.js';
export * from '../../kit/errors.js';
export type { JsonValue, TransformInput } from '../../kit/index.js';
export { singleOrList, toTransformInput } from '../../kit/index.js';
export type { RunnerStats } from './pool.js';
export type { PluginInfo, PluginRegistry } from './registry.js';

/** The repository's `plugins/` directory. */
export const DEFAULT_PLUGIN_DIR = fileURLToPath(new URL('../../plugins/', import.meta.url));

export interface PluginLoadOptions {
  /**
   * JSONata's own time limit per evaluation (checked between expression nodes). Wall-clock time:
   * leave headroom for a busy machine (a typical transform takes 0.03-0.1 ms).
   * @default 100
   */
  timeoutMs?: number;
  /**
   * JSONata's depth limit per evaluation (nested nodes; each recursive call adds several).
   * @default 200
   */
  maxDepth?: number;
  /**
   * Longest sequence (array) an evaluation may build, e.g. by a range `[1..n]`; bounds memory.
   * @default 100000
   */
  maxSequence?: number;
  /**
   * Hard deadline per evaluation: the worker running it is terminated and replaced, and the call
   * fails with TRANSFORM_TIMEOUT. Stops what JSONata's timeout cannot (regex backtracking, long
   * built-in loops).
   * @default 250
   */
  deadlineMs?: number;
  /**
   * Worker threads evaluating transforms. 0 evaluates in the calling thread with only the soft
   * limits above and no hard deadline: for tools and benchmarks, never for a server.
   * @default 2
   */
  poolSize?: number;
  /**
   * How long a worker may take to load the plugins (at start, and when replacing a stopped one).
   * @default 30000
   */
  startupMs?: number;
  /**
   * Distinct inline expressions (`expression` plugin) kept compiled, per worker.
   * @default 256
   */
  expressionCacheSize?: number;
}

/**
 * Loads, checks and prepares every plugin in `dir` (plus the built-in `expression` plugin) and
 * starts the evaluation workers. Rejects with a PluginLoadError naming the file and the fault for
 * the first bad plugin: the server refuses to start then.
 */
export async function loadPlugins(
  dir: string = DEFAULT_PLUGIN_DIR,
  options: PluginLoadOptions = {},
): Promise<PluginRegistry> {
  const limits: EvaluationLimits = {
    timeoutMs: options.timeoutMs ?? 100,
    maxDepth: options.maxDepth ?? 200,
    maxSequence: options.maxSequence ?? 100_000,
    expressionCacheSize: options.expressionCacheSize ?? 256,
  };
  const poolSize = options.poolSize ?? 2;
  for (const [name, value] of Object.entries({ ...limits, poolSize })) {
    if (!Number.isInteger(value) || value < 0)
      throw new TypeError(`loadPlugins: ${name} must be a whole number ≥ 0`);
  }
  if (poolSize === 0) {
    const plugins = await loadDefinitions(dir);
    const evaluator = createEvaluator(plugins, limits);
    return createRegistry(plugins, {
      runMany: async (items) => {
        const outcomes = [];
        for (const i of items) outcomes.push(await evaluator.evaluate(i.plugin, i.params, i.input));
        return outcomes;
      },
      stats: () => ({ workers: 0, starting: 0, busy: 0, queued: 0 }),
      close: async () => {},
    });
  }
  // The workers load first: importing runs each plugin's top-level code, and a worker that hangs
  // there can be given up on, where the server's own thread could not.
  const pool = new WorkerPool({
    size: poolSize,
    deadlineMs: options.deadlineMs ?? 250,
    startupMs: options.startupMs ?? 30_000,
    init: { dir: path.resolve(dir), limits, expected: null },
  });
  const loadedByWorkers = await pool.start();
  let plugins: LoadedPlugin[];
  try {
    plugins = await loadDefinitions(dir);
  } catch (e) {
    await pool.close();
    throw e;
  }
  const keys = plugins.map(pluginKey).sort();
  if (keys.join(', ') !== loadedByWorkers.join(', ')) {
    await pool.close();
    throw new PluginLoadError(
      'PLUGIN_WORKER_FAILED',
      displayPath(dir),
      'plugin files changed while loading; start again',
    );
  }
  pool.expect(keys);
  return createRegistry(plugins, pool);
}
