import { defineTransform, z } from '../kit/index.js';

// `g` and `y` make a RegExp stateful (lastIndex); one value is matched once, so neither is needed.
const FLAGS = /^(?!.*(.).*\1)[imsu]*$/;
const compiled = new Map<string, RegExp>();

function regexOf(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    re = new RegExp(pattern, flags);
    if (compiled.size >= 100) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/** Number of capture groups and the named ones: match the pattern's alternation with an empty string. */
function groupsOf(pattern: string, flags: string): { count: number; names: string[] } {
  const probe = new RegExp(`${pattern}|`, flags).exec('');
  return { count: (probe?.length ?? 1) - 1, names: Object.keys(probe?.groups ?? {}) };
}

function extract(value: string, pattern: string, flags: string, group: string | number): string | undefined {
  const match = regexOf(pattern, flags).exec(value);
  if (!match) return undefined;
  const found = typeof group === 'number' ? match[group] : match.groups?.[group];
  return found === undefined || found === '' ? undefined : found;
}

export default defineTransform({
  name: 'regex-extract',
  version: '1.1.0',
  kit: '^2.0.0',
  description:
    'Extracts part of a value with a regular expression (JavaScript syntax): a numbered or named group. A value that does not match counts as absent.',
  params: z
    .object({
      pattern: z
        .string()
        .min(1)
        .max(500)
        .meta({ format: 'regex' })
        .describe('Regular expression, e.g. ^CN=([^,]+)'),
      flags: z
        .string()
        .regex(FLAGS, 'flags may be i, m, s and u, each once')
        .default('')
        .describe('Regex flags'),
      group: z
        .union([z.number().int().min(0), z.string().regex(/^[A-Za-z_$][\w$]*$/)])
        .default(1)
        .describe('Capture group to return: its number (0 = the whole match) or its name'),
    })
    .superRefine((p, ctx) => {
      let groups: { count: number; names: string[] };
      try {
        groups = groupsOf(p.pattern, p.flags);
      } catch (e) {
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: `not a valid regular expression: ${String(e)}`,
        });
        return;
      }
      const missing = typeof p.group === 'number' ? p.group > groups.count : !groups.names.includes(p.group);
      if (missing) {
        ctx.addIssue({ code: 'custom', path: ['group'], message: `the pattern has no group ${p.group}` });
      }
    }),
  expression: `(
    $one := function($s) { $regexExtract($s, $params.pattern, $params.flags, $params.group) };
    $count($values) > 1 ? [$values.$one($)] : $exists($values[0]) ? $one($values[0]) : null
  )`,
  helpers: {
    regexExtract: { fn: extract, signature: '<sss(sn):s>' },
  },
  examples: [
    {
      description: 'The common name of a distinguished name',
      input: { value: 'CN=Ada Lovelace,OU=Staff,DC=example,DC=com' },
      params: { pattern: '^CN=([^,]+)' },
      output: 'Ada Lovelace',
    },
    {
      description: 'A named group, ignoring case',
      input: { value: 'employee-ID: e12345' },
      params: { pattern: 'employee-id:\\s*(?<id>\\w+)', flags: 'i', group: 'id' },
      output: 'e12345',
    },
    {
      description: 'No match counts as absent',
      input: { value: 'contractor' },
      params: { pattern: '^E(\\d+)$' },
      output: null,
    },
    {
      description: 'Each value of a list (groups → team names)',
      input: { values: ['team-red', 'staff', 'team-blue'] },
      params: { pattern: '^team-(.+)$' },
      output: ['red', 'blue'],
    },
  ],
});
