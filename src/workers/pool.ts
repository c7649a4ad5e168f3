import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PluginLoadError } from '../../kit/errors.js';
import type { EvalOutcome } from '../../kit/evaluate.js';
import { COMPILED, PACKAGE_ROOT } from '../paths.js';
import {
  type Job,
  type JobResult,
  Phase,
  Progress,
  type SerializedError,
  type Task,
  type WorkerInit,
  type WorkerMessage,
} from './protocol.js';

export interface WorkerStats {
  /** Worker threads alive. */
  workers: number;
  /** Of those, still loading the plugins (e.g. replacing a stopped one). */
  starting: number;
  busy: number;
  /** Jobs waiting for a worker. */
  queued: number;
  /** Workers replaced since the pool started (stopped at a deadline, or crashed). */
  restarts: number;
  /** Jobs stopped at their deadline since the pool started. */
  deadlineStops: number;
  /** Workers that died under a job, by the phase the job was in. */
  crashes: { validation: number; transforms: number };
}

export interface PoolOptions {
  size: number;
  init: Omit<WorkerInit, 'progress'>;
  /** Hard deadline per transform, from its start. */
  transformDeadlineMs: number;
  /** Hard deadline of one SAML validation. */
  validationDeadlineMs: number;
  /** How long a worker may take to load the plugins before it is given up. */
  startupMs: number;
  /**
   * Jobs handed to one worker at a time: the one it runs and the ones waiting behind it, so that it
   * never idles while the main thread is busy. A worker that is stopped hands its waiting jobs back.
   */
  pipelineDepth: number;
  /** A worker stopped at a deadline or crashed (for the log). */
  onIncident?: (incident: {
    kind: 'deadline' | 'crash';
    phase: 'validation' | 'transforms';
    cause: string;
  }) => void;
}

interface Pending {
  job: Job;
  resolve: (result: JobResult) => void;
  /** Its validation already ran in a worker that died: a second death refuses it. */
  survivedCrash?: true;
}

interface Slot {
  worker: Worker;
  progress: Progress;
  state: 'starting' | 'ready' | 'gone';
  /** Handed to this worker, in order: the first is running (or about to), the rest wait. */
  jobs: Pending[];
  /** When the first job became the first. */
  headSince?: number;
  timer?: NodeJS.Timeout;
  crash?: Error;
}

// Under tsx or vitest this module is TypeScript, and so is the worker; the worker then starts from a
// small JavaScript entry that registers tsx in the worker thread (see worker-tsx.mjs). Compiled, the
// worker is its own bundle (scripts/build.mjs).
const WORKER_URL = COMPILED
  ? pathToFileURL(path.join(PACKAGE_ROOT, 'build', 'worker', 'worker.js'))
  : new URL('./worker-tsx.mjs', import.meta.url);

// A job whose worker never even published its start is given up this long after its deadlines.
const START_SLACK_MS = 1000;

type Reason = 'deadline' | 'crash' | 'unavailable';

/** The plugin names of a job's transforms (validate jobs build their items in the worker). */
function transformPlugins(task: Task): string[] {
  if (task.kind === 'transform') return task.items.map((i) => i.plugin);
  return (task.transforms ?? []).map((s) => s.plugin);
}

function transformFailure(plugin: string, reason: Reason, cause: string): EvalOutcome {
  return {
    ok: false,
    code: reason === 'deadline' ? 'TRANSFORM_TIMEOUT' : 'TRANSFORM_FAILED',
    reason,
    message: `transform plugin "${plugin}": ${cause}`,
  };
}

/** Every transform of a job that could not run at all fails alike (no worker, closed, not passable). */
function failTransforms(job: Job, reason: Reason, cause: string): (EvalOutcome | null)[] {
  const skip = new Set(job.skip);
  return transformPlugins(job.task).map((plugin, i) =>
    skip.has(i) ? null : transformFailure(plugin, reason, cause),
  );
}

function validationFailure(reason: Reason, cause: string): SerializedError {
  return reason === 'deadline'
    ? {
        code: 'SAML_VALIDATION_TIMEOUT',
        message: `the SAML response was still being validated at the deadline (${cause})`,
        details: {},
        unexpected: false,
      }
    : { code: 'INTERNAL', message: `SAML validation worker: ${cause}`, details: {}, unexpected: true };
}

const result = (job: Job, part: Partial<JobResult>): JobResult => ({
  type: 'done',
  id: job.id,
  outcomes: [],
  validateMs: 0,
  transformMs: 0,
  ...part,
});

/**
 * The one pool of worker threads: SAML validations and transforms, one job per worker at a time,
 * so that a runaway is stopped by terminating its worker without touching any other job or the
 * main event loop. Each job has a deadline per phase, read against the progress the worker
 * publishes in shared memory: a validation gets `validationDeadlineMs`, each transform
 * `transformDeadlineMs` from its own start. A stopped or crashed worker is replaced; the transform
 * it was running fails alone (TRANSFORM_TIMEOUT / TRANSFORM_FAILED) and the rest of the job runs
 * again on another worker without it, so that a runaway costs only its own mapping.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private restarts = 0;
  private deadlineStops = 0;
  private readonly crashes = { validation: 0, transforms: 0 };

  constructor(private options: PoolOptions) {}

  /**
   * Starts every worker and waits until each has loaded the plugins; resolves to what they loaded
   * (name@version#hash, sorted).
   */
  async start(): Promise<string[]> {
    const ready = Array.from({ length: this.options.size }, () => this.spawn());
    const results = await Promise.allSettled(ready);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close();
      throw failed.reason;
    }
    return (results[0] as PromiseFulfilledResult<string[]>).value;
  }

  /** From now on, workers must load exactly these plugins (what the main thread checked). */
  expect(keys: readonly string[]): void {
    this.options.init = { ...this.options.init, expected: keys };
  }

  /** Runs a job; always resolves (a failure is part of the result, never a rejection). */
  run(task: Task, skip: readonly number[] = []): Promise<JobResult> {
    const job: Job = { id: this.nextId++, task, skip };
    if (this.closed) return Promise.resolve(this.unavailable(job, 'the workers are closed'));
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.pump();
    });
  }

  stats(): WorkerStats {
    let starting = 0;
    let busy = 0;
    for (const slot of this.slots) {
      if (slot.state === 'starting') starting++;
      else if (slot.jobs.length > 0) busy++;
    }
    return {
      workers: this.slots.size,
      starting,
      busy,
      queued: this.queue.length,
      restarts: this.restarts,
      deadlineStops: this.deadlineStops,
      crashes: { ...this.crashes },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) p.resolve(this.unavailable(p.job, 'the workers are closed'));
    const stopping = [...this.slots].map((slot) => {
      clearTimeout(slot.timer);
      for (const p of slot.jobs.splice(0)) p.resolve(this.unavailable(p.job, 'the workers are closed'));
      return this.retire(slot);
    });
    await Promise.all(stopping);
  }

  private unavailable(job: Job, cause: string): JobResult {
    return job.task.kind === 'validate'
      ? result(job, { refusal: validationFailure('unavailable', cause) })
      : result(job, { outcomes: failTransforms(job, 'unavailable', cause) });
  }

  private spawn(): Promise<string[]> {
    const progress = Progress.create();
    const worker = new Worker(WORKER_URL, {
      workerData: { ...this.options.init, progress: progress.buffer } satisfies WorkerInit,
      execArgv: [],
      // Plugins see no secrets: the worker gets an empty environment, not a copy of ours.
      env: {},
    });
    const slot: Slot = { worker, progress, state: 'starting', jobs: [] };
    this.slots.add(slot);
    return new Promise<string[]>((resolveReady, rejectReady) => {
      // Loading runs the plugins' top-level code; a loop there must not hang the server's start.
      const startup = setTimeout(() => {
        const fault = `a worker did not finish loading the plugins within ${this.options.startupMs} ms (does a plugin's top-level code loop?)`;
        rejectReady(new PluginLoadError('PLUGIN_WORKER_FAILED', this.options.init.pluginDir, fault));
        void this.retire(slot);
      }, this.options.startupMs);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(startup);
          slot.state = 'ready';
          worker.unref();
          resolveReady(message.keys);
          this.pump();
        } else if (message.type === 'load-error') {
          clearTimeout(startup);
          rejectReady(new PluginLoadError(message.code, message.file, message.fault));
          void this.retire(slot);
        } else if (slot.jobs[0]?.job.id === message.id) {
          this.finish(slot)?.resolve(message);
          this.pump();
        }
      });
      worker.on('error', (e) => {
        slot.crash = e;
      });
      worker.on('exit', () => {
        if (slot.state === 'gone') return;
        const wasStarting = slot.state === 'starting';
        slot.state = 'gone';
        this.slots.delete(slot);
        const cause = describeCrash(slot.crash);
        if (wasStarting) {
          clearTimeout(startup);
          rejectReady(
            new PluginLoadError('PLUGIN_WORKER_FAILED', this.options.init.pluginDir, `worker ${cause}`),
          );
          return;
        }
        if (slot.jobs.length > 0) this.stopped(slot, 'crash', cause);
        this.restarts++;
        this.replace();
      });
    });
  }

  private pump(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      // The least loaded worker that can take one more: an idle one first.
      let best: Slot | undefined;
      for (const slot of this.slots) {
        if (slot.state !== 'ready' || slot.jobs.length >= this.options.pipelineDepth) continue;
        if (!best || slot.jobs.length < best.jobs.length) best = slot;
      }
      if (!best) break;
      this.dispatch(best, this.queue.shift() as Pending);
    }
    if (this.queue.length > 0 && this.slots.size < this.options.size) this.replace();
  }

  private dispatch(slot: Slot, pending: Pending): void {
    try {
      slot.worker.postMessage(pending.job);
    } catch (e) {
      const cause = `its input cannot be passed on: ${(e as Error).message}`;
      pending.resolve(
        pending.job.task.kind === 'validate'
          ? result(pending.job, { refusal: validationFailure('crash', cause) })
          : result(pending.job, { outcomes: failTransforms(pending.job, 'crash', cause) }),
      );
      return;
    }
    slot.jobs.push(pending);
    if (slot.jobs.length === 1) this.lead(slot);
  }

  /** The first job of a worker's line starts its clock. */
  private lead(slot: Slot): void {
    const head = slot.jobs[0];
    if (!head) {
      slot.worker.unref();
      return;
    }
    slot.worker.ref();
    slot.headSince = Date.now();
    this.watch(slot, this.firstLook(head.job));
  }

  /**
   * When to look at a job first: a validation's deadline is far (seconds) but the transforms after
   * it start within milliseconds, and their deadline must be caught on time.
   */
  private firstLook(job: Job): number {
    const { validationDeadlineMs, transformDeadlineMs } = this.options;
    if (job.task.kind !== 'validate') return transformDeadlineMs;
    return this.runs(job) > 0 ? Math.min(validationDeadlineMs, transformDeadlineMs) : validationDeadlineMs;
  }

  /** How many of the job's transforms are to run. */
  private runs(job: Job): number {
    return Math.max(0, transformPlugins(job.task).length - job.skip.length);
  }

  /** Checks the job's progress against its deadlines now and then; stops the worker past one. */
  private watch(slot: Slot, delayMs: number): void {
    slot.timer = setTimeout(() => {
      const job = slot.jobs[0]?.job;
      if (!job || slot.state !== 'ready') return;
      const { validationDeadlineMs, transformDeadlineMs } = this.options;
      const now = Date.now();
      const p = slot.progress.read();
      const started = p.jobId === job.id;
      let limit: number;
      let phase: 'validation' | 'transforms';
      if (started && p.phase === Phase.VALIDATING) {
        limit = p.phaseStartedAt + validationDeadlineMs;
        phase = 'validation';
        // The transforms may begin before then: look again by the time one of them could overrun.
        if (now < limit && this.runs(job) > 0)
          return this.watch(slot, Math.min(limit - now, transformDeadlineMs));
      } else if (started && p.phase === Phase.TRANSFORMING) {
        // Each transform has its own deadline, from its own start.
        limit = p.itemStartedAt + transformDeadlineMs;
        phase = 'transforms';
      } else {
        // Not started yet (the message is on its way) or done (the result is): look again soon,
        // but never wait for ever on a worker that does not take its job.
        const validation = job.task.kind === 'validate' ? validationDeadlineMs : 0;
        limit = (slot.headSince ?? now) + validation + this.runs(job) * transformDeadlineMs + START_SLACK_MS;
        phase = job.task.kind === 'validate' && !started ? 'validation' : 'transforms';
        if (now < limit) return this.watch(slot, Math.min(limit - now, 10));
      }
      if (now < limit) return this.watch(slot, limit - now);
      this.deadlineStops++;
      const budget = phase === 'validation' ? validationDeadlineMs : transformDeadlineMs;
      const cause = `stopped after ${budget} ms (hard deadline)`;
      this.options.onIncident?.({ kind: 'deadline', phase, cause });
      const stopping = this.retire(slot);
      this.stopped(slot, 'deadline', cause, phase);
      this.restarts++;
      this.replace();
      void stopping;
    }, delayMs);
  }

  /**
   * The jobs of a worker that was stopped or died: fail what was running, rerun what must be, and
   * hand the jobs that were waiting behind it back to the front of the queue (they never started).
   */
  private stopped(
    slot: Slot,
    reason: 'deadline' | 'crash',
    cause: string,
    known?: 'validation' | 'transforms',
  ): void {
    const pending = this.finish(slot);
    this.queue.unshift(...slot.jobs.splice(0));
    if (pending) this.fail(pending, slot, reason, cause, known);
    this.pump();
  }

  /**
   * A stopped job: a validation that did not finish is refused; a transform that did not finish
   * fails alone, and the job runs again elsewhere (first in line) without it — the transforms
   * before it (pure, cheap) and the validation are run again, the ones after it run for the first
   * time — so that a runaway costs only its own mapping and one deadline.
   */
  private fail(
    pending: Pending,
    slot: Slot,
    reason: 'deadline' | 'crash',
    cause: string,
    known?: 'validation' | 'transforms',
  ): void {
    const { job } = pending;
    const p = slot.progress.read();
    const inTransforms = p.jobId === job.id && p.phase === Phase.TRANSFORMING;
    const phase = known ?? (inTransforms ? 'transforms' : 'validation');
    if (reason === 'crash') {
      this.crashes[phase]++;
      this.options.onIncident?.({ kind: 'crash', phase, cause });
    }
    if (
      phase === 'validation' &&
      job.task.kind === 'validate' &&
      reason === 'crash' &&
      !pending.survivedCrash
    ) {
      // A validation is pure and nothing was written yet: a worker that died under it (killed, out
      // of memory, a native fault) costs the person nothing; it runs again, first in line. A response
      // that kills a second worker is refused, so that one input cannot take the pool down.
      this.queue.unshift({ ...pending, survivedCrash: true });
      return;
    }
    if (phase === 'validation' && job.task.kind === 'validate') {
      pending.resolve(result(job, { refusal: validationFailure(reason, cause) }));
      return;
    }
    const plugins = transformPlugins(job.task);
    const index = inTransforms ? p.index : plugins.findIndex((_, i) => !job.skip.includes(i));
    const plugin = plugins[index];
    if (plugin === undefined) {
      // Nothing to blame (a transform job that never started): every transform fails alike.
      pending.resolve(result(job, { outcomes: failTransforms(job, reason, cause) }));
      return;
    }
    const failure = transformFailure(
      plugin,
      reason,
      reason === 'crash' ? `the evaluation worker ${cause}` : cause,
    );
    this.queue.unshift({
      job: { id: this.nextId++, task: job.task, skip: [...job.skip, index] },
      resolve: (rerun) =>
        pending.resolve({
          ...rerun,
          id: job.id,
          outcomes: plugins.map((_, i) => (i === index ? failure : (rerun.outcomes[i] ?? null))),
        }),
    });
  }

  /** Takes the worker's first job off its line (clearing its deadline); the next one leads. */
  private finish(slot: Slot): Pending | undefined {
    const pending = slot.jobs.shift();
    if (!pending) return undefined;
    clearTimeout(slot.timer);
    if (slot.state === 'ready') this.lead(slot);
    return pending;
  }

  private async retire(slot: Slot): Promise<void> {
    slot.state = 'gone';
    this.slots.delete(slot);
    await slot.worker.terminate();
  }

  /** Starts a worker in place of a lost one; if that fails and none is left, queued work fails. */
  private replace(): void {
    if (this.closed || this.slots.size >= this.options.size) return;
    this.spawn().catch((e: unknown) => this.afterLoss(e instanceof Error ? e.message : String(e)));
  }

  private afterLoss(cause: string): void {
    if (this.slots.size > 0 || this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    for (const p of queued) p.resolve(this.unavailable(p.job, cause));
  }
}

function describeCrash(e: Error | undefined): string {
  if (!e) return 'stopped unexpectedly';
  if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') return 'ran out of memory';
  return `crashed: ${e.message}`;
}
