import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * Metrics under `npm run start:cluster`: a scrape reaches one process, but must show them all.
 * That process asks the primary, which gathers every process's registry over IPC (prom-client's
 * AggregatorRegistry: counters and histograms summed, per-database gauges taken once) and answers.
 */
const ASK = 'jitprov:metrics:ask';
const ANSWER = 'jitprov:metrics:answer';

interface Ask {
  type: typeof ASK;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answers the processes' asks with the whole cluster's metrics. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Ask) => {
    if (message?.type !== ASK) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: message.id, text } satisfies Answer),
      (e: unknown) =>
        worker.send({
          type: ANSWER,
          id: message.id,
          error: e instanceof Error ? e.message : String(e),
        } satisfies Answer),
    );
  });
}

/**
 * In a cluster process: offers `registry` to the primary's gathering and returns the scrape that
 * asks the primary for the whole cluster; null outside a cluster.
 */
export function joinClusterMetrics(registry: Registry, timeoutMs = 5000): (() => Promise<string>) | null {
  if (!cluster.isWorker || !process.send) return null;
  new AggregatorRegistry(); // installs prom-client's answer to the primary's requests
  AggregatorRegistry.setRegistries([registry]);
  let next = 0;
  const waiting = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();
  process.on('message', (message: Answer) => {
    if (message?.type !== ANSWER) return;
    const w = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) w?.reject(new Error(message.error));
    else w?.resolve(message.text ?? '');
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the cluster primary did not answer for the metrics'));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      process.send?.({ type: ASK, id } satisfies Ask);
    });
}
