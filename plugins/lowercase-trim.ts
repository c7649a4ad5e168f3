import { defineTransform, z } from '../kit/index.js';

/** Trims whitespace (and optionally lower-cases) every value; handy for emails and usernames. */
export default defineTransform({
  name: 'lowercase-trim',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'Trims surrounding whitespace (and collapses inner runs of it) and, unless turned off, lower-cases the value; each value of a list.',
  params: z.object({
    lowercase: z.boolean().default(true).describe('Lower-case the value as well'),
  }),
  expression: `(
    $one := function($s) { $params.lowercase ? $lowercase($trim($s)) : $trim($s) };
    $count($values) > 1 ? [$values.$one($)] : $exists($values[0]) ? $one($values[0]) : null
  )`,
  examples: [
    {
      description: 'An email with stray spaces and capitals',
      input: { value: '  Ada.Lovelace@Example.COM ' },
      params: {},
      output: 'ada.lovelace@example.com',
    },
    { description: 'Keep the case', input: { value: ' Ada ' }, params: { lowercase: false }, output: 'Ada' },
    {
      description: 'Each value of a multi-valued attribute',
      input: { values: [' A ', 'B '] },
      params: {},
      output: ['a', 'b'],
    },
    { description: 'An absent attribute stays absent', input: {}, params: {}, output: null },
  ],
});
