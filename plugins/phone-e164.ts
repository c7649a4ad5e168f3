import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import { defineTransform, z } from '../kit/index.js';

/**
 * Normalises one phone number to E.164. Blank is absent (undefined). The message never repeats the
 * number: it ends up in audit rows, and a phone number is personal data.
 */
function toE164(raw: string, country?: string): string | undefined {
  const text = raw.trim();
  if (text === '') return undefined;
  const phone = parsePhoneNumberFromString(text, country as CountryCode | undefined);
  if (!phone?.isValid()) {
    const hint = country ? ` (default country ${country})` : ' (no default country: give +<country code>)';
    throw new Error(`the value is not a valid phone number${hint}`);
  }
  return phone.number;
}

export default defineTransform({
  name: 'phone-e164',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'Normalises phone numbers to E.164 (+4930123456). Numbers without a country code are read in the default country; an invalid number fails the sign-in with TRANSFORM_FAILED.',
  params: z.object({
    defaultCountry: z
      .string()
      .toUpperCase()
      .refine(isSupportedCountry, 'must be an ISO 3166-1 alpha-2 country code with a phone plan, e.g. DE')
      .optional()
      .describe('Country for numbers written without +<country code> (ISO 3166-1 alpha-2)'),
  }),
  expression: `$count($values) > 1
    ? [$values.$e164($, $params.defaultCountry)]
    : $exists($values[0]) ? $e164($values[0], $params.defaultCountry) : null`,
  helpers: {
    e164: { fn: toE164, signature: '<ss?:s>' },
  },
  examples: [
    {
      description: 'A national number in the default country',
      input: { value: '030 1234567' },
      params: { defaultCountry: 'DE' },
      output: '+49301234567',
    },
    {
      description: 'An international number ignores the default country',
      input: { value: '+1 (202) 555-0143' },
      params: { defaultCountry: 'DE' },
      output: '+12025550143',
    },
    {
      description: 'Every value of a multi-valued attribute',
      input: { values: ['+44 20 7946 0958', '+33 1 23 45 67 89'] },
      params: {},
      output: ['+442079460958', '+33123456789'],
    },
    {
      description: 'Not a phone number',
      input: { value: 'call me maybe' },
      params: { defaultCountry: 'DE' },
      fails: 'not a valid phone number',
    },
    { description: 'An absent attribute', input: {}, params: {}, output: null },
  ],
});
