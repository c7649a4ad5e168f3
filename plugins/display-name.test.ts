import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './display-name.js';

const t = await pluginUnderTest(definition);

describe('display-name', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('reads "Family, Given" and drops middle names when asked', async () => {
    expect(await t.run({ part: 'given', middleNames: 'drop' }, { value: 'Tolkien, John Ronald Reuel' })).toBe(
      'John',
    );
    expect(await t.run({ part: 'family' }, { value: 'Tolkien, John Ronald Reuel' })).toBe('Tolkien');
  });

  it('keeps multi-word particles with the family name', async () => {
    expect(await t.run({ part: 'family' }, { value: 'Juan de la Cruz' })).toBe('de la Cruz');
    expect(await t.run({ part: 'given' }, { value: 'Juan de la Cruz' })).toBe('Juan');
  });

  it('treats a single name as the family name when asked', async () => {
    expect(await t.run({ part: 'family', singleNameAs: 'family' }, { value: 'Cher' })).toBe('Cher');
    expect(await t.run({ part: 'given', singleNameAs: 'family' }, { value: 'Cher' })).toBeNull();
  });

  it('leaves names in scripts without spaces whole', async () => {
    expect(await t.run({ part: 'given' }, { value: '山田太郎' })).toBe('山田太郎');
  });

  it('normalises combining characters (NFC)', async () => {
    expect(await t.run({ part: 'given' }, { value: 'Zoe\u0308 Ångström' })).toBe('Zo\u00eb');
  });

  it('takes the first value of a multi-valued attribute', async () => {
    expect(await t.run({ part: 'family' }, { values: ['Ada Lovelace', 'Grace Hopper'] })).toBe('Lovelace');
  });
});
