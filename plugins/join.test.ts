import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './join.js';

const t = await pluginUnderTest(definition);

describe('join', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('defaults to a space and trims each part', async () => {
    expect(await t.run({}, { values: [' Ada ', 'King '] })).toBe('Ada King');
  });

  it('treats attributes that are all absent as absent', async () => {
    expect(await t.run({ attributes: ['street', 'city'] }, { attributes: {} })).toBeNull();
  });

  it('joins every value of each listed attribute, in order', async () => {
    const input = { attributes: { a: ['1', '2'], b: ['3'] } };
    expect(await t.run({ separator: '-', attributes: ['b', 'a'] }, input)).toBe('3-1-2');
  });
});
