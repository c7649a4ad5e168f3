import { tryCompile } from '../../kit/compile.js';
import { defineTransform, z } from '../../kit/index.js';
import { Lru } from '../../kit/lru.js';

/** Longest inline expression an admin may store; a transform is a line or two, not a program. */
export const MAX_INLINE_EXPRESSION_LENGTH = 4000;

// Params are parsed on every evaluation; remembering verdicts keeps that from recompiling.
const verdicts = new Lru<string, string | null>(512);

function compileVerdict(expression: string): string | null {
  const cached = verdicts.get(expression);
  if (cached !== undefined) return cached;
  const result = tryCompile(expression);
  const verdict = result.ok ? null : result.failure.message;
  verdicts.set(expression, verdict);
  return verdict;
}

/**
 * The built-in `expression` plugin: an admin's inline JSONata transform. The evaluator runs the
 * parameter itself (compiled once per distinct string, in a bounded cache), with the same inputs
 * and limits as any plugin; `expression` below only documents that.
 */
export const expressionPlugin = defineTransform({
  name: 'expression',
  version: '1.0.0',
  kit: '^2.0.0',
  description:
    'An inline JSONata expression. It sees $value, $values, $attributes, $nameId and $params; its result is the column value.',
  params: z.object({
    expression: z
      .string()
      .min(1)
      .max(MAX_INLINE_EXPRESSION_LENGTH)
      .describe('JSONata expression')
      .superRefine((expression, ctx) => {
        const verdict = compileVerdict(expression);
        if (verdict !== null) {
          ctx.addIssue({
            code: 'custom',
            message: `expression does not compile: ${verdict}`,
            params: { code: 'EXPRESSION_INVALID' },
          });
        }
      }),
  }),
  expression: '$params.expression',
  examples: [
    {
      description: 'Upper-case a country code',
      input: { value: 'de' },
      params: { expression: '$uppercase($value)' },
      output: 'DE',
    },
    {
      description: 'Combine two attributes',
      input: { attributes: { given: ['Ada'], sn: ['Lovelace'] } },
      params: { expression: "$attributes.given[0] & ' ' & $attributes.sn[0]" },
      output: 'Ada Lovelace',
    },
    {
      description: 'Pick the groups that start with "app-"',
      input: { values: ['app-crm', 'staff', 'app-hr'] },
      params: { expression: "$values[$substring($, 0, 4) = 'app-']" },
      output: ['app-crm', 'app-hr'],
    },
    {
      description: 'Refuse with a message of your own',
      input: { value: 'contractor' },
      params: { expression: "$value = 'contractor' ? $error('contractors are not provisioned') : $value" },
      fails: 'contractors are not provisioned',
    },
  ],
});
