/**
 * Per-evaluation latency of transforms through the worker threads versus in the calling thread:
 *
 *   node --import tsx scripts/bench/transforms.ts [iterations]
 *
 * Sequential latency is what one job pays per transform; concurrent throughput is what the process
 * sustains when many sign-ins evaluate at once.
 */
import type { TransformInput } from '../../kit/index.js';
import type { TransformItem } from '../../src/mapping/transform-calls.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';

const iterations = Number(process.argv[2] ?? 5000);
const BATCH = 50;

const input = (value: string, nameId = 'ada'): TransformInput => ({
  value,
  values: [value],
  attributes: {},
  nameId,
});
const cases: TransformItem[] = [
  { plugin: 'lowercase-trim', params: {}, input: input(' Ada@Example.COM ') },
  { plugin: 'display-name', params: { part: 'family' }, input: input('Ludwig van Beethoven', 'lvb') },
  { plugin: 'expression', params: { expression: "$uppercase($value) & '/' & $nameId" }, input: input('de') },
];

async function measure(workers: Workers, label: string): Promise<void> {
  for (const c of cases) {
    for (let i = 0; i < 200; i++) await workers.transform([c]); // warm-up
    let t0 = performance.now();
    for (let i = 0; i < iterations; i++) await workers.transform([c]);
    const sequential = ((performance.now() - t0) * 1000) / iterations;
    t0 = performance.now();
    // In batches: in one thread, thousands of interleaved evaluations share JSONata's wall clock.
    for (let done = 0; done < iterations; done += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, () => workers.transform([c])));
    }
    const concurrent = iterations / ((performance.now() - t0) / 1000);
    console.log(
      `${label.padEnd(12)} ${c.plugin.padEnd(15)} sequential ${sequential.toFixed(1).padStart(6)} µs/eval` +
        `   batches of ${BATCH} ${Math.round(concurrent).toString().padStart(7)} evals/s`,
    );
  }
}

// A lenient soft limit: this measures overhead, and a busy machine should not abort the run.
const inProcess = await startWorkers({ size: 0, timeoutMs: 1000 });
await measure(inProcess, 'in-process');
await inProcess.close();
const pooled = await startWorkers({ size: 2, timeoutMs: 1000 });
await measure(pooled, 'workers (2)');
await pooled.close();
