import { defineTransform, z } from '../kit/index.js';

export default defineTransform({
  name: 'value-map',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'Replaces a value by its entry in a table (e.g. department codes → names), with a default for values not in the table.',
  params: z
    .object({
      map: z
        .record(z.string().min(1), z.string())
        .refine((m) => Object.keys(m).length > 0, 'give at least one entry')
        .describe('Value as the IdP sends it → value to store'),
      default: z
        .string()
        .optional()
        .describe('Stored for a value that is not in the table; without it such a value counts as absent'),
      caseInsensitive: z.boolean().default(false).describe('Match values regardless of case'),
    })
    .superRefine((p, ctx) => {
      if (!p.caseInsensitive) return;
      // Two keys that differ only in case would make the lookup depend on key order.
      const seen = new Map<string, string>();
      for (const key of Object.keys(p.map)) {
        const folded = key.trim().toLowerCase();
        const other = seen.get(folded);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['map', key],
            message: `same key as "${other}" when case is ignored`,
          });
        }
        seen.set(folded, key);
      }
    }),
  expression: `(
    $key := function($s) { $params.caseInsensitive ? $lowercase($trim($s)) : $trim($s) };
    $table := $params.caseInsensitive
      ? $merge($each($params.map, function($v, $k) { { $key($k): $v } }))
      : $params.map;
    $one := function($s) { (
      $hit := $lookup($table, $key($s));
      $exists($hit) ? $hit : $params.default
    ) };
    $count($values) > 1 ? [$values.$one($)] : $exists($values[0]) ? $one($values[0]) : null
  )`,
  examples: [
    {
      description: 'A department code',
      input: { value: 'D042' },
      params: { map: { D042: 'Finance', D043: 'Sales' }, default: 'Other' },
      output: 'Finance',
    },
    {
      description: 'A code not in the table takes the default',
      input: { value: 'D999' },
      params: { map: { D042: 'Finance', D043: 'Sales' }, default: 'Other' },
      output: 'Other',
    },
    {
      description: 'Without a default an unknown code counts as absent',
      input: { value: 'D999' },
      params: { map: { D042: 'Finance' } },
      output: null,
    },
    {
      description: 'Case-insensitive, each value of a list',
      input: { values: ['fin', 'SALES'] },
      params: { map: { FIN: 'Finance', sales: 'Sales' }, caseInsensitive: true },
      output: ['Finance', 'Sales'],
    },
  ],
});
