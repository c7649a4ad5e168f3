/**
 * Helpers for plugin tests: check a definition the way the loader does and run it in the test's
 * own thread (the soft limits apply; the worker pool is covered by test/plugins-*.test.ts).
 */
import { type LoadedExample, type LoadedPlugin, validateDefinition } from './definition.js';
import { TransformError } from './errors.js';
import { createEvaluator, type EvaluationLimits } from './evaluate.js';
import {
  type ExampleInput,
  type JsonValue,
  type TransformDefinition,
  type TransformInput,
  toTransformInput,
} from './index.js';

export interface PluginUnderTest {
  plugin: LoadedPlugin;
  examples: LoadedExample[];
  /** Runs the transform; throws TransformError like the registry does. */
  run(params: unknown, input: ExampleInput): Promise<JsonValue>;
}

// Generous time: plugin tests share the machine with other test files; the limits have their own tests.
export const TEST_LIMITS: EvaluationLimits = {
  timeoutMs: 1000,
  maxDepth: 200,
  maxSequence: 100_000,
  expressionCacheSize: 16,
};

export async function pluginUnderTest(
  definition: TransformDefinition,
  file = `plugins/${definition.name}.ts`,
): Promise<PluginUnderTest> {
  const plugin = await validateDefinition(definition, file, { builtin: file === '(built-in)' });
  const evaluator = createEvaluator([plugin], TEST_LIMITS);
  return {
    plugin,
    examples: plugin.examples,
    async run(params, input) {
      const outcome = await evaluator.evaluate(plugin.name, params, toTransformInput(input));
      if (outcome.ok) return outcome.value;
      throw new TransformError(outcome.code, outcome.message, plugin.name, outcome.reason);
    },
  };
}

/**
 * Runs an example and pairs what happened with what it promises, for `expect(actual).toEqual(expected)`:
 * `{ output }`, or `{ fails }` when it failed with TRANSFORM_FAILED and a message containing the fragment.
 */
export async function checkExample(
  run: (params: unknown, input: TransformInput) => Promise<unknown>,
  example: LoadedExample,
): Promise<{ actual: unknown; expected: unknown }> {
  const expected = example.fails !== undefined ? { fails: example.fails } : { output: example.output };
  try {
    return { actual: { output: await run(example.params, example.input) }, expected };
  } catch (e) {
    if (!(e instanceof TransformError)) throw e;
    const promised =
      example.fails !== undefined && e.code === 'TRANSFORM_FAILED' && e.message.includes(example.fails);
    return { actual: promised ? expected : { error: e.code, message: e.message }, expected };
  }
}
