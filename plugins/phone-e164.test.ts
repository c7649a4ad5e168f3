import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './phone-e164.js';

const t = await pluginUnderTest(definition);

describe('phone-e164', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('needs a country code when there is no default country', async () => {
    await expect(t.run({}, { value: '030 1234567' })).rejects.toMatchObject({
      code: 'TRANSFORM_FAILED',
      message: expect.stringMatching(/no default country/),
    });
  });

  it('never repeats the number in its message (it ends up in audit rows)', async () => {
    await expect(t.run({ defaultCountry: 'DE' }, { value: '12' })).rejects.toMatchObject({
      message: expect.not.stringContaining('12'),
    });
  });

  it('accepts a lower-case default country and drops an extension', async () => {
    expect(await t.run({ defaultCountry: 'gb' }, { value: '020 7946 0958 ext. 12' })).toBe('+442079460958');
  });

  it('treats a blank value as absent', async () => {
    expect(await t.run({ defaultCountry: 'DE' }, { value: '   ' })).toBeNull();
  });
});
