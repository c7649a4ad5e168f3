import path from 'node:path';
import { PluginLoadError, TransformError } from '../../kit/errors.js';
import type { EvalOutcome, EvaluationLimits } from '../../kit/evaluate.js';
import type { JsonValue } from '../../kit/index.js';
import { AppError } from '../errors.js';
import type { TransformItem, TransformSpec } from '../mapping/transform-calls.js';
import { createCatalog, type PluginCatalog } from '../plugins/catalog.js';
import { DEFAULT_PLUGIN_DIR, displayPath, loadDefinitions } from '../plugins/discover.js';
import type { ValidatedAssertion } from '../saml/assertion.js';
import type { ConnectionTrust, SpExpectations } from '../saml/validator.js';
import { WorkerPool, type WorkerStats } from './pool.js';
import type { JobResult, Task } from './protocol.js';

export type { WorkerStats } from './pool.js';

export interface WorkerOptions {
  /** Folder of transform plugins. @default the repository's plugins/ */
  pluginDir?: string;
  /**
   * Worker threads. 0 runs every job in the calling thread with JSONata's soft limits only and no
   * hard deadline: for tools and benchmarks, never for a server.
   * @default 2
   */
  size?: number;
  /**
   * JSONata's own time limit per evaluation (checked between expression nodes). Wall-clock time:
   * leave headroom for a busy machine (a typical transform takes 0.03-0.1 ms).
   * @default 100
   */
  timeoutMs?: number;
  /** JSONata's depth limit per evaluation (nested nodes; each recursive call adds several). @default 200 */
  maxDepth?: number;
  /** Longest sequence (array) an evaluation may build, e.g. by a range `[1..n]`; bounds memory. @default 100000 */
  maxSequence?: number;
  /** Distinct inline expressions (`expression` plugin) kept compiled, per worker. @default 256 */
  expressionCacheSize?: number;
  /**
   * Hard deadline per transform: past it the worker is terminated and replaced, and the transform
   * fails with TRANSFORM_TIMEOUT. Stops what JSONata's timeout cannot (regex backtracking, long
   * built-in loops).
   * @default 250
   */
  transformDeadlineMs?: number;
  /** Hard deadline of one SAML validation (SAML_VALIDATION_TIMEOUT past it). @default 5000 */
  validationDeadlineMs?: number;
  /** How long a worker may take to load the plugins (at start, and replacing a stopped one). @default 30000 */
  startupMs?: number;
  /** Jobs handed to a worker at once: the one it runs and those waiting behind it. @default 2 */
  pipelineDepth?: number;
  /** Where faults of the workers are reported (a pino logger fits). */
  log?: { error(details: object, message: string): void; warn(details: object, message: string): void };
}

export type TransformResult = { ok: true; value: JsonValue } | { ok: false; error: TransformError };

export interface ValidateRequest {
  base64: string;
  maxResponseBytes: number;
  trust: ConnectionTrust;
  sp: SpExpectations;
  /** The SP decryption key, for a response that carries an EncryptedAssertion. */
  decryptionKey?: string;
  /** The sign-in's transforms, run in the same job on what the validation read. */
  transforms?: readonly TransformSpec[];
}

export interface Validated {
  assertion: ValidatedAssertion;
  /** One per transform spec given, in order; null when none were given. */
  transforms: TransformResult[] | null;
  /** Wall time of the validation (the job's round trip but its transforms) and of the transforms. */
  timings: { validationMs: number; transformsMs: number };
}

/** The worker threads as the rest of the service uses them. */
export interface Workers {
  /** The plugins the workers run, as the main thread checked them. */
  readonly plugins: PluginCatalog;
  /** Validates a SAMLResponse (and runs the given transforms on it); throws the refusal's AppError. */
  validate(request: ValidateRequest): Promise<Validated>;
  /** Evaluates transforms as one job; each gets its own result or TransformError, in order. */
  transform(items: readonly TransformItem[]): Promise<TransformResult[]>;
  stats(): WorkerStats;
  /** Stops the workers; jobs after this fail. */
  close(): Promise<void>;
}

const toResult = (plugin: string, outcome: EvalOutcome | null | undefined): TransformResult =>
  !outcome
    ? {
        ok: false,
        error: new TransformError(
          'TRANSFORM_FAILED',
          `transform plugin "${plugin}" did not run`,
          plugin,
          'unavailable',
        ),
      }
    : outcome.ok
      ? { ok: true, value: outcome.value }
      : { ok: false, error: new TransformError(outcome.code, outcome.message, plugin, outcome.reason) };

/**
 * Loads the plugins and starts the worker threads that validate SAML responses and evaluate
 * transforms. The workers load first (importing runs each plugin's top-level code, and a worker
 * that hangs there can be given up on, where the server's own thread could not); the main thread
 * then checks the same files and refuses to start unless both saw the same plugins. Rejects with a
 * PluginLoadError naming the file and the fault for the first bad plugin.
 */
export async function startWorkers(options: WorkerOptions = {}): Promise<Workers> {
  const dir = path.resolve(options.pluginDir ?? DEFAULT_PLUGIN_DIR);
  const limits: EvaluationLimits = {
    timeoutMs: options.timeoutMs ?? 100,
    maxDepth: options.maxDepth ?? 200,
    maxSequence: options.maxSequence ?? 100_000,
    expressionCacheSize: options.expressionCacheSize ?? 256,
  };
  const size = options.size ?? 2;
  for (const [name, value] of Object.entries({ ...limits, size })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`startWorkers: ${name} must be a whole number ≥ 0`);
    }
  }

  let run: (task: Task) => Promise<JobResult>;
  let stats: () => WorkerStats;
  let close: () => Promise<void>;
  let plugins: PluginCatalog;
  if (size === 0) {
    const definitions = await loadDefinitions(dir);
    plugins = createCatalog(definitions);
    // In this thread only without workers (size 0): the SAML stack is not loaded at every start.
    const { createTaskRunner } = await import('./tasks.js');
    const runner = createTaskRunner(definitions, limits);
    let nextId = 1;
    run = (task) => runner.run({ id: nextId++, task, skip: [] });
    stats = () => ({
      workers: 0,
      starting: 0,
      busy: 0,
      queued: 0,
      restarts: 0,
      deadlineStops: 0,
      crashes: { validation: 0, transforms: 0 },
    });
    close = async () => {};
  } else {
    const pool = new WorkerPool({
      size,
      init: { pluginDir: dir, limits, expected: null },
      transformDeadlineMs: options.transformDeadlineMs ?? 250,
      validationDeadlineMs: options.validationDeadlineMs ?? 5000,
      startupMs: options.startupMs ?? 30_000,
      pipelineDepth: options.pipelineDepth ?? 2,
      onIncident: (i) =>
        options.log?.warn(i, `worker ${i.kind === 'crash' ? 'crashed' : 'stopped at its deadline'}`),
    });
    const loadedByWorkers = await pool.start();
    try {
      plugins = createCatalog(await loadDefinitions(dir));
    } catch (e) {
      await pool.close();
      throw e;
    }
    if (plugins.keys.join(', ') !== loadedByWorkers.join(', ')) {
      await pool.close();
      throw new PluginLoadError(
        'PLUGIN_WORKER_FAILED',
        displayPath(dir),
        'plugin files changed while loading; start again',
      );
    }
    pool.expect(plugins.keys);
    run = (task) => pool.run(task);
    stats = () => pool.stats();
    close = () => pool.close();
  }

  return {
    plugins,
    async validate(request) {
      const started = performance.now();
      const r = await run({ kind: 'validate', ...request });
      if (r.refusal) {
        if (r.refusal.unexpected)
          options.log?.error({ message: r.refusal.message }, 'SAML validation failed unexpectedly');
        throw new AppError(
          r.refusal.code,
          r.refusal.unexpected ? 'internal error' : r.refusal.message,
          r.refusal.details,
        );
      }
      if (!r.assertion) throw new AppError('INTERNAL', 'internal error');
      const specs = request.transforms;
      return {
        assertion: r.assertion,
        transforms: specs ? specs.map((s, i) => toResult(s.plugin, r.outcomes[i])) : null,
        timings: { validationMs: performance.now() - started - r.transformMs, transformsMs: r.transformMs },
      };
    },
    async transform(items) {
      if (items.length === 0) return [];
      // A plugin the catalog does not know never reaches a worker.
      const known = items.filter((i) => plugins.get(i.plugin));
      const r = known.length > 0 ? await run({ kind: 'transform', items: known }) : null;
      let next = 0;
      return items.map((item) =>
        plugins.get(item.plugin)
          ? toResult(item.plugin, r?.outcomes[next++])
          : {
              ok: false,
              error: new TransformError(
                'TRANSFORM_FAILED',
                `transform plugin "${item.plugin}" is not loaded`,
                item.plugin,
                'params',
              ),
            },
      );
    },
    stats: () => stats(),
    close: () => close(),
  };
}
