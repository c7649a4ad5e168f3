import { defineTransform, z } from '../kit/index.js';

export default defineTransform({
  name: 'join',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    "Joins values into one string: the mapped attribute's values, or the values of several attributes in order. Blank values are skipped.",
  params: z.object({
    separator: z.string().max(20).default(' ').describe('Put between the values'),
    attributes: z
      .array(z.string().min(1))
      .min(1)
      .max(20)
      .optional()
      .describe("Attribute names to join, in order; without it, the mapped attribute's values"),
  }),
  expression: `(
    $parts := $exists($params.attributes) ? $params.attributes.$lookup($attributes, $) : $values;
    $kept := $parts[$trim($) != ''].$trim($);
    $exists($kept[0]) ? $join($kept, $params.separator) : null
  )`,
  examples: [
    {
      description: "A multi-valued attribute's values",
      input: { values: ['Sales', 'EMEA'] },
      params: { separator: ' / ' },
      output: 'Sales / EMEA',
    },
    {
      description: 'Several attributes, a blank one skipped',
      input: { attributes: { street: ['1 Main St'], building: [' '], city: ['Springfield'] } },
      params: { separator: ', ', attributes: ['street', 'building', 'city'] },
      output: '1 Main St, Springfield',
    },
    { description: 'One value', input: { value: 'Solo' }, params: {}, output: 'Solo' },
    { description: 'Nothing to join', input: {}, params: {}, output: null },
  ],
});
