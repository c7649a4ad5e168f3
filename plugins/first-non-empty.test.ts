import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './first-non-empty.js';

const t = await pluginUnderTest(definition);

describe('first-non-empty', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('takes the first non-blank value of a multi-valued attribute', async () => {
    const input = { attributes: { otherMails: ['', ' ', 'ada@home.example', 'ada@work.example'] } };
    expect(await t.run({ attributes: ['otherMails'] }, input)).toBe('ada@home.example');
  });

  it('does not fall back to a blank NameID', async () => {
    expect(await t.run({ attributes: ['mail'], includeNameId: true }, { nameId: ' ' })).toBeNull();
  });
});
