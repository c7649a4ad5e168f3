import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './regex-extract.js';

const t = await pluginUnderTest(definition);

describe('regex-extract', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('returns the whole match for group 0', async () => {
    expect(await t.run({ pattern: '\\d{3,}', group: 0 }, { value: 'room 1234, floor 5' })).toBe('1234');
  });

  it('honours the flags', async () => {
    const value = 'title: x\ndept: Sales';
    expect(await t.run({ pattern: '^dept: (.+)$' }, { value })).toBeNull();
    expect(await t.run({ pattern: '^dept: (.+)$', flags: 'm' }, { value })).toBe('Sales');
  });

  it('treats an empty capture as absent', async () => {
    expect(await t.run({ pattern: '^x(a*)$' }, { value: 'x' })).toBeNull();
  });
});
