import { Worker } from 'node:worker_threads';
import { PluginLoadError } from '../../kit/errors.js';
import type { EvalOutcome } from '../../kit/evaluate.js';
import type { EvalItem, EvalRequest, WorkerInit, WorkerMessage } from './protocol.js';

export interface RunnerStats {
  /** Worker threads alive (0 when evaluating in process). */
  workers: number;
  /** Of those, still loading the plugins (e.g. replacing a stopped one). */
  starting: number;
  busy: number;
  /** Evaluations waiting for a worker. */
  queued: number;
}

export interface Runner {
  /** Evaluations as one job: one message each way, one outcome per item, in order. */
  runMany(items: EvalItem[]): Promise<EvalOutcome[]>;
  stats(): RunnerStats;
  close(): Promise<void>;
}

export interface PoolOptions {
  size: number;
  /** Hard deadline per evaluation, from the moment a worker takes it (a job of n: n times this). */
  deadlineMs: number;
  /** How long a worker may take to load the plugins before it is given up. */
  startupMs: number;
  init: WorkerInit;
}

interface Job {
  items: EvalItem[];
  resolve: (outcomes: EvalOutcome[]) => void;
  id?: number;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'gone';
  job?: Job;
  crash?: Error;
}

// Under tsx or vitest this module is TypeScript, and so is the worker; the worker then starts from a
// small JavaScript entry that registers tsx in the worker thread (see worker-tsx.mjs).
const RUNNING_TS = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(RUNNING_TS ? './worker-tsx.mjs' : './worker.js', import.meta.url);

const fail = (plugin: string, reason: 'deadline' | 'crash' | 'unavailable', cause: string): EvalOutcome => ({
  ok: false,
  code: reason === 'deadline' ? 'TRANSFORM_TIMEOUT' : 'TRANSFORM_FAILED',
  reason,
  message: `transform plugin "${plugin}": ${cause}`,
});

/** Every item of a job that could not finish fails alike (which one ran away is not known). */
const failAll = (job: Job, reason: 'deadline' | 'crash' | 'unavailable', cause: string): EvalOutcome[] => {
  const names = [...new Set(job.items.map((i) => i.plugin))];
  const what =
    job.items.length > 1 ? `${cause}, evaluating ${names.map((n) => `"${n}"`).join(', ')} in one job` : cause;
  return job.items.map((i) => fail(i.plugin, reason, what));
};

/**
 * Evaluates in a pool of worker threads, one evaluation per worker at a time, so that a runaway
 * can be stopped by terminating its worker without touching the others or the main event loop.
 */
export class WorkerPool implements Runner {
  private readonly slots = new Set<Slot>();
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;

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
  expect(keys: string[]): void {
    this.options.init = { ...this.options.init, expected: keys };
  }

  runMany(items: EvalItem[]): Promise<EvalOutcome[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (this.closed) {
      return Promise.resolve(
        items.map((i) => fail(i.plugin, 'unavailable', 'the plugin registry is closed')),
      );
    }
    return new Promise((resolve) => {
      this.queue.push({ items, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const queued = this.queue;
    this.queue = [];
    for (const job of queued) job.resolve(failAll(job, 'unavailable', 'the plugin registry is closed'));
    const stopping = [...this.slots].map((slot) => {
      if (slot.job) this.finish(slot, failAll(slot.job, 'unavailable', 'the plugin registry is closed'));
      return this.retire(slot);
    });
    await Promise.all(stopping);
  }

  stats(): RunnerStats {
    let starting = 0;
    let busy = 0;
    for (const slot of this.slots) {
      if (slot.state === 'starting') starting++;
      else if (slot.state === 'busy') busy++;
    }
    return { workers: this.slots.size, starting, busy, queued: this.queue.length };
  }

  private spawn(): Promise<string[]> {
    const worker = new Worker(WORKER_URL, {
      workerData: this.options.init,
      execArgv: [],
      // Plugins see no secrets: the worker gets an empty environment, not a copy of ours.
      env: {},
    });
    const slot: Slot = { worker, state: 'starting' };
    this.slots.add(slot);
    return new Promise<string[]>((resolveReady, rejectReady) => {
      // Loading runs the plugins' top-level code; a loop there must not hang the server's start.
      const startup = setTimeout(() => {
        const fault = `a worker did not finish loading the plugins within ${this.options.startupMs} ms (does a plugin's top-level code loop?)`;
        rejectReady(new PluginLoadError('PLUGIN_WORKER_FAILED', this.options.init.dir, fault));
        void this.retire(slot);
      }, this.options.startupMs);
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          clearTimeout(startup);
          slot.state = 'idle';
          worker.unref();
          resolveReady(message.keys);
          this.pump();
        } else if (message.type === 'load-error') {
          clearTimeout(startup);
          rejectReady(new PluginLoadError(message.code, message.file, message.fault));
          void this.retire(slot);
        } else if (slot.job?.id === message.id) {
          this.finish(slot, message.outcomes);
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
          rejectReady(new PluginLoadError('PLUGIN_WORKER_FAILED', this.options.init.dir, `worker ${cause}`));
          return;
        }
        if (slot.job) this.finish(slot, failAll(slot.job, 'crash', `the evaluation worker ${cause}`));
        this.replace();
      });
    });
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.state !== 'idle') continue;
      const job = this.queue.shift() as Job;
      this.dispatch(slot, job);
    }
    if (this.queue.length > 0 && this.slots.size < this.options.size) this.replace();
  }

  private dispatch(slot: Slot, job: Job): void {
    job.id = this.nextId++;
    const request: EvalRequest = { id: job.id, items: job.items };
    try {
      slot.worker.postMessage(request);
    } catch (e) {
      job.resolve(
        job.items.map((i) => ({
          ok: false,
          code: 'TRANSFORM_FAILED',
          reason: 'error',
          message: `transform plugin "${i.plugin}": its parameters or input cannot be passed on: ${(e as Error).message}`,
        })),
      );
      return;
    }
    slot.state = 'busy';
    slot.job = job;
    slot.worker.ref();
    const deadlineMs = this.options.deadlineMs * job.items.length;
    job.timer = setTimeout(() => {
      const stopping = this.retire(slot);
      this.finish(slot, failAll(job, 'deadline', `stopped after ${deadlineMs} ms (hard deadline)`));
      this.replace();
      void stopping;
    }, deadlineMs);
  }

  private finish(slot: Slot, outcomes: EvalOutcome[]): void {
    const job = slot.job;
    if (!job) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    if (slot.state === 'busy') {
      slot.state = 'idle';
      slot.worker.unref();
    }
    job.resolve(outcomes);
  }

  private async retire(slot: Slot): Promise<void> {
    slot.state = 'gone';
    this.slots.delete(slot);
    await slot.worker.terminate();
  }

  /** Starts a worker in place of a lost one; if that fails and none is left, queued work fails. */
  private replace(): void {
    if (this.closed || this.slots.size >= this.options.size) return;
    this.spawn().catch((e: unknown) => {
      this.afterLoss(e instanceof Error ? e.message : String(e));
    });
  }

  private afterLoss(cause: string): void {
    if (this.slots.size > 0 || this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    for (const job of queued) job.resolve(failAll(job, 'unavailable', cause));
  }
}

function describeCrash(e: Error | undefined): string {
  if (!e) return 'stopped unexpectedly';
  if ((e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') return 'ran out of memory';
  return `crashed: ${e.message}`;
}
