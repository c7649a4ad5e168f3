import { afterAll, describe, expect, it } from 'vitest';
import { checkExample } from '../../kit/testing.js';
import { startWorkers } from '../../src/workers/workers.js';
import { evaluate } from '../helpers/transforms.js';

// Every plugin the loader discovers, through the path a sign-in takes (registry → worker thread).
const registry = await startWorkers({ size: 2 });
afterAll(() => registry.close());

const cases = registry.plugins
  .list()
  .flatMap((info) =>
    info.examples.map((example) => [`${info.name}: ${example.description}`, info.name, example] as const),
  );

describe('every discovered plugin keeps the promises of its examples', () => {
  it('discovers the built-in and the shipped plugins, each with examples', () => {
    expect(registry.plugins.list().length).toBeGreaterThanOrEqual(9);
    for (const info of registry.plugins.list()) expect(info.examples.length).toBeGreaterThan(0);
  });

  it.each(cases)('%s', async (_, plugin, example) => {
    const { actual, expected } = await checkExample(
      (params, input) => evaluate(registry, plugin, params, input),
      example,
    );
    expect(actual).toEqual(expected);
  });
});
