import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './value-map.js';

const t = await pluginUnderTest(definition);

describe('value-map', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('trims values before looking them up', async () => {
    expect(await t.run({ map: { D042: 'Finance' } }, { value: ' D042 ' })).toBe('Finance');
  });

  it('matches case exactly unless told otherwise', async () => {
    expect(await t.run({ map: { D042: 'Finance' } }, { value: 'd042' })).toBeNull();
    expect(await t.run({ map: { D042: 'Finance' }, caseInsensitive: true }, { value: 'd042' })).toBe(
      'Finance',
    );
  });

  it('gives the default to each unmapped value of a list', async () => {
    expect(await t.run({ map: { a: 'A' }, default: '?' }, { values: ['a', 'b'] })).toEqual(['A', '?']);
  });

  it('treats an absent attribute as absent, not as the default', async () => {
    expect(await t.run({ map: { a: 'A' }, default: '?' }, {})).toBeNull();
  });

  it('looks up own keys only', async () => {
    expect(await t.run({ map: { a: 'A' } }, { value: 'constructor' })).toBeNull();
  });
});
