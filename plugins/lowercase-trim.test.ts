import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './lowercase-trim.js';

const t = await pluginUnderTest(definition);

describe('lowercase-trim', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('collapses inner runs of spaces and lower-cases non-ASCII letters', async () => {
    expect(await t.run({}, { value: '  ÅSA  Öberg ' })).toBe('åsa öberg');
  });

  it('refuses a non-boolean lowercase parameter', async () => {
    await expect(t.run({ lowercase: 'yes' }, { value: 'A' })).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      reason: 'params',
    });
  });
});
