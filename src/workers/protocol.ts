import type { PluginLoadErrorCode } from '../../kit/errors.js';
import type { EvalOutcome, EvaluationLimits } from '../../kit/evaluate.js';
import type { ErrorCode, ErrorDetails } from '../errors.js';
import type { TransformItem, TransformSpec } from '../mapping/transform-calls.js';
import type { ValidatedAssertion } from '../saml/assertion.js';
import type { ConnectionTrust, SpExpectations } from '../saml/validator.js';

/**
 * The one protocol between the main thread and the worker threads. A job is a validation (of a
 * SAMLResponse, optionally followed by the transforms of the sign-in's mappings on what it read)
 * or a list of transforms; one message carries it there and one carries its result back.
 */

/** What the main thread tells a worker when it starts it. */
export interface WorkerInit {
  pluginDir: string;
  limits: EvaluationLimits;
  /**
   * name@version#hash of every plugin the main thread checked; a worker that finds others refuses.
   * Null for the first workers, which load before the main thread does and report what they found.
   */
  expected: readonly string[] | null;
  /** Where the worker says what it is doing, for the main thread's deadlines (see Progress). */
  progress: SharedArrayBuffer;
}

export interface ValidateTask {
  kind: 'validate';
  /** The SAMLResponse form value, as received: the worker decodes and parses it. */
  base64: string;
  maxResponseBytes: number;
  trust: ConnectionTrust;
  sp: SpExpectations;
  /** The SP decryption key (PEM), sent only with a response that carries an EncryptedAssertion. */
  decryptionKey?: string;
  /** The mappings' transforms, run on the validated assertion in the same job. */
  transforms?: readonly TransformSpec[];
}

export interface TransformTask {
  kind: 'transform';
  items: readonly TransformItem[];
}

export type Task = ValidateTask | TransformTask;

export interface Job {
  id: number;
  task: Task;
  /** Transforms (by index) not to run: they already failed in an earlier run of this job. */
  skip: readonly number[];
}

/** A refusal as it crosses threads; rebuilt into an AppError once, on the main thread. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
  details: ErrorDetails;
  /** Not a refusal of the input but a fault: its message goes to the log, never to the caller. */
  unexpected: boolean;
}

export interface JobResult {
  type: 'done';
  id: number;
  /** Validate jobs: the verified assertion, or why it was refused (then no transform ran). */
  assertion?: ValidatedAssertion;
  refusal?: SerializedError;
  /** One per transform, in order; null where skipped. */
  outcomes: (EvalOutcome | null)[];
  validateMs: number;
  transformMs: number;
}

export type WorkerMessage =
  | { type: 'ready'; keys: string[] }
  | { type: 'load-error'; code: PluginLoadErrorCode; file: string; fault: string }
  | JobResult;

/**
 * The progress a worker publishes in shared memory, so that the main thread can tell which phase
 * (and which transform) of which job has been running for how long without a message.
 */
export const Phase = { IDLE: 0, VALIDATING: 1, TRANSFORMING: 2 } as const;

export class Progress {
  static readonly BYTES = 32;
  private readonly ints: Int32Array;
  private readonly times: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    // [job id, phase, transform index] then [phase started at, transform started at] (epoch ms).
    this.ints = new Int32Array(buffer, 0, 3);
    this.times = new Float64Array(buffer, 16, 2);
  }

  static create(): Progress {
    return new Progress(new SharedArrayBuffer(Progress.BYTES));
  }

  enter(jobId: number, phase: number, now = Date.now()): void {
    this.times[0] = now;
    Atomics.store(this.ints, 0, jobId);
    Atomics.store(this.ints, 1, phase);
  }

  item(index: number, now = Date.now()): void {
    this.times[1] = now;
    Atomics.store(this.ints, 2, index);
  }

  idle(): void {
    Atomics.store(this.ints, 1, Phase.IDLE);
  }

  read(): { jobId: number; phase: number; index: number; phaseStartedAt: number; itemStartedAt: number } {
    return {
      jobId: Atomics.load(this.ints, 0),
      phase: Atomics.load(this.ints, 1),
      index: Atomics.load(this.ints, 2),
      phaseStartedAt: this.times[0] ?? 0,
      itemStartedAt: this.times[1] ?? 0,
    };
  }
}
