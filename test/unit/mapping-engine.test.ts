import { describe, expect, it } from 'vitest';
import { TransformError } from '../../kit/errors.js';
import type { TransformInput } from '../../kit/index.js';
import { evaluateMappings } from '../../src/mapping/engine.js';
import type { MappingRule } from '../../src/mapping/rule.js';
import type { TransformResult, TransformRunner } from '../../src/mapping/transform-calls.js';

const rule = (over: Partial<MappingRule>): MappingRule => ({
  id: `m-${over.column}`,
  kind: 'TRANSFORM',
  attributeName: 'given',
  column: 'givenName',
  plugin: 'upper',
  params: {},
  required: false,
  defaultValue: null,
  multiValue: 'FIRST',
  separator: ' ',
  writePolicy: 'ALWAYS',
  onFailure: 'REFUSE',
  ...over,
});

/** A registry that records how it was called; `upper` uppercases, `broken` fails. */
function recordingPlugins() {
  const calls: string[] = [];
  const one = (name: string, input: TransformInput): TransformResult =>
    name === 'broken'
      ? { ok: false, error: new TransformError('TRANSFORM_FAILED', 'broken on purpose', name, 'error') }
      : { ok: true, value: String(input.value).toUpperCase() };
  const plugins: TransformRunner = {
    transform: async (items) => {
      calls.push(`evaluateMany:${items.map((i) => i.plugin).join(',')}`);
      return items.map((i) => one(i.plugin, i.input));
    },
  };
  return { plugins, calls };
}

describe('the transforms of one sign-in', () => {
  it('go to the plugin registry as one job, and each result lands on its own mapping', async () => {
    const { plugins, calls } = recordingPlugins();
    const rules = [
      rule({ column: 'givenName', attributeName: 'given' }),
      rule({ column: 'surname', kind: 'COPY', attributeName: 'sn', plugin: null }),
      rule({ column: 'department', attributeName: 'dept', plugin: 'broken' }),
      rule({ column: 'city', attributeName: 'city' }),
    ];
    const outcomes = await evaluateMappings(
      rules,
      { nameId: 'ada', attributes: { given: ['ada'], sn: ['Lovelace'], dept: ['x'], city: ['london'] } },
      plugins,
    );
    expect(calls).toEqual(['evaluateMany:upper,broken,upper']);
    expect(outcomes.map((o) => [o.field.name, o.value, o.error?.code ?? null])).toEqual([
      ['givenName', 'ADA', null],
      ['surname', 'Lovelace', null],
      ['department', null, 'TRANSFORM_FAILED'],
      ['city', 'LONDON', null],
    ]);
    expect(outcomes[2]?.error?.message).toMatch(
      /mapping to column "department" \(transform "broken"\): broken on purpose/,
    );
  });
});
