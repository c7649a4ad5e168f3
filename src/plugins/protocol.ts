import type { PluginLoadErrorCode } from '../../kit/errors.js';
import type { EvalOutcome, EvaluationLimits } from '../../kit/evaluate.js';
import type { TransformInput } from '../../kit/index.js';

/** What the main thread tells a worker when it starts it. */
export interface WorkerInit {
  dir: string;
  limits: EvaluationLimits;
  /**
   * name@version#hash of every plugin the main thread checked; a worker that finds others refuses.
   * Null for the first workers, which load before the main thread does and report what they found.
   */
  expected: string[] | null;
}

/** One transform evaluation. */
export interface EvalItem {
  plugin: string;
  params: unknown;
  input: TransformInput;
}

/** The evaluations of one request (a sign-in's transforms travel together), run in order. */
export interface EvalRequest {
  id: number;
  items: EvalItem[];
}

export type WorkerMessage =
  | { type: 'ready'; keys: string[] }
  | { type: 'load-error'; code: PluginLoadErrorCode; file: string; fault: string }
  | { type: 'result'; id: number; outcomes: EvalOutcome[] };

export const pluginKey = (p: { name: string; version: string; sourceHash?: string }): string =>
  `${p.name}@${p.version}#${p.sourceHash?.slice(0, 16) ?? 'built-in'}`;
