/**
 * Per-evaluation latency through the worker pool versus in the calling thread:
 *
 *   node --import tsx src/plugins/bench.ts [iterations]
 *
 * Sequential latency is what one sign-in pays per transform; concurrent throughput is what the
 * process sustains when many sign-ins evaluate at once.
 */
import { loadPlugins, type PluginRegistry, type TransformInput } from './loader.js';

const iterations = Number(process.argv[2] ?? 5000);
const BATCH = 50;

const cases: { plugin: string; params: unknown; input: TransformInput }[] = [
  {
    plugin: 'lowercase-trim',
    params: {},
    input: { value: ' Ada@Example.COM ', values: [' Ada@Example.COM '], attributes: {}, nameId: 'ada' },
  },
  {
    plugin: 'display-name',
    params: { part: 'family' },
    input: { value: 'Ludwig van Beethoven', values: ['Ludwig van Beethoven'], attributes: {}, nameId: 'lvb' },
  },
  {
    plugin: 'expression',
    params: { expression: "$uppercase($value) & '/' & $nameId" },
    input: { value: 'de', values: ['de'], attributes: {}, nameId: 'ada' },
  },
];

async function measure(registry: PluginRegistry, label: string): Promise<void> {
  for (const c of cases) {
    for (let i = 0; i < 200; i++) await registry.evaluate(c.plugin, c.params, c.input); // warm-up
    let t0 = performance.now();
    for (let i = 0; i < iterations; i++) await registry.evaluate(c.plugin, c.params, c.input);
    const sequential = ((performance.now() - t0) * 1000) / iterations;
    t0 = performance.now();
    // In batches: in one thread, thousands of interleaved evaluations share JSONata's wall clock.
    for (let done = 0; done < iterations; done += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, () => registry.evaluate(c.plugin, c.params, c.input)));
    }
    const concurrent = iterations / ((performance.now() - t0) / 1000);
    console.log(
      `${label.padEnd(12)} ${c.plugin.padEnd(15)} sequential ${sequential.toFixed(1).padStart(6)} µs/eval` +
        `   batches of ${BATCH} ${Math.round(concurrent).toString().padStart(7)} evals/s`,
    );
  }
}

// A lenient soft limit: this measures overhead, and a busy machine should not abort the run.
const inProcess = await loadPlugins(undefined, { poolSize: 0, timeoutMs: 1000 });
await measure(inProcess, 'in-process');
await inProcess.close();
const pooled = await loadPlugins(undefined, { poolSize: 2, timeoutMs: 1000 });
await measure(pooled, 'pool (2)');
await pooled.close();
