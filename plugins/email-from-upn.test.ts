import { describe, expect, it } from 'vitest';
import { checkExample, pluginUnderTest } from '../kit/testing.js';
import definition from './email-from-upn.js';

const t = await pluginUnderTest(definition);

describe('email-from-upn', () => {
  it.each(t.examples.map((e) => [e.description, e] as const))('example: %s', async (_, example) => {
    const { actual, expected } = await checkExample(t.run, example);
    expect(actual).toEqual(expected);
  });

  it('rewrites the domain whatever its case', async () => {
    const params = { domains: { 'corp.contoso.local': 'contoso.com' } };
    expect(await t.run(params, { value: 'Ada@CORP.Contoso.Local' })).toBe('ada@contoso.com');
  });

  it('unwraps a guest UPN whatever the case of #EXT#', async () => {
    expect(await t.run({}, { value: 'Ada.L_fabrikam.co.uk#ext#@contoso.onmicrosoft.com' })).toBe(
      'ada.l@fabrikam.co.uk',
    );
  });

  it('treats a blank value as absent', async () => {
    expect(await t.run({}, { value: ' ' })).toBeNull();
  });
});
