import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PluginParamsError } from '../../kit/errors.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';

let registry: Workers;
beforeAll(async () => {
  registry = await startWorkers({ size: 0 });
});
afterAll(() => registry.close());

function refusal(plugin: string, params: unknown): PluginParamsError {
  try {
    registry.plugins.validateParams(plugin, params);
  } catch (e) {
    return e as PluginParamsError;
  }
  throw new Error(`${plugin} accepted ${JSON.stringify(params)}`);
}

describe('validateParams', () => {
  it('returns the parsed parameters with defaults applied', () => {
    expect(registry.plugins.validateParams('display-name', { part: 'given' })).toEqual({
      part: 'given',
      middleNames: 'given',
      singleNameAs: 'given',
    });
    expect(registry.plugins.validateParams('phone-e164', { defaultCountry: 'de' })).toEqual({
      defaultCountry: 'DE',
    });
    expect(
      registry.plugins.validateParams('email-from-upn', { domains: { 'Corp.Example.LOCAL': 'example.com' } }),
    ).toEqual({
      domains: { 'corp.example.local': 'example.com' },
      lowercase: true,
      source: 'value',
    });
  });

  it.each([
    ['an unknown plugin', 'no-such-plugin', {}, 'PLUGIN_NOT_FOUND', []],
    ['a missing required parameter', 'display-name', {}, 'PLUGIN_PARAMS_INVALID', ['part']],
    ['a value outside an enum', 'display-name', { part: 'nickname' }, 'PLUGIN_PARAMS_INVALID', ['part']],
    ['params that are not an object', 'join', 'comma', 'PLUGIN_PARAMS_INVALID', []],
    [
      'a wrong type inside a record',
      'value-map',
      { map: { D042: 42 } },
      'PLUGIN_PARAMS_INVALID',
      ['map', 'D042'],
    ],
    ['an empty map', 'value-map', { map: {} }, 'PLUGIN_PARAMS_INVALID', ['map']],
    [
      'keys that collide when case is ignored',
      'value-map',
      { map: { HR: 'People', hr: 'Human resources' }, caseInsensitive: true },
      'PLUGIN_PARAMS_INVALID',
      ['map', 'hr'],
    ],
    [
      'an unknown country',
      'phone-e164',
      { defaultCountry: 'XX' },
      'PLUGIN_PARAMS_INVALID',
      ['defaultCountry'],
    ],
    [
      'a bad list item',
      'first-non-empty',
      { attributes: ['mail', ''] },
      'PLUGIN_PARAMS_INVALID',
      ['attributes', 1],
    ],
    ['an invalid regex', 'regex-extract', { pattern: '^CN=(' }, 'PLUGIN_PARAMS_INVALID', ['pattern']],
    [
      'a stateful regex flag',
      'regex-extract',
      { pattern: 'a', flags: 'g', group: 0 },
      'PLUGIN_PARAMS_INVALID',
      ['flags'],
    ],
    [
      'a group the pattern lacks',
      'regex-extract',
      { pattern: '^E\\d+$' },
      'PLUGIN_PARAMS_INVALID',
      ['group'],
    ],
    [
      'an unknown named group',
      'regex-extract',
      { pattern: '(?<id>\\d+)', group: 'name' },
      'PLUGIN_PARAMS_INVALID',
      ['group'],
    ],
    [
      'a domain that is not one',
      'email-from-upn',
      { domains: { 'corp.local': 'not a domain' } },
      'PLUGIN_PARAMS_INVALID',
      ['domains', 'corp.local'],
    ],
    ['an empty expression', 'expression', { expression: '' }, 'PLUGIN_PARAMS_INVALID', ['expression']],
    [
      'an expression that does not compile',
      'expression',
      { expression: '$uppercase($value' },
      'EXPRESSION_INVALID',
      ['expression'],
    ],
  ])('refuses %s', (_, plugin, params, code, path) => {
    const error = refusal(plugin, params);
    expect(error.name).toBe('PluginParamsError');
    expect(error.code).toBe(code);
    expect(error.path).toEqual(path);
    expect(error.message).toContain(plugin === 'no-such-plugin' ? '"no-such-plugin"' : `plugin "${plugin}"`);
  });

  it('names the compile error and its position for an inline expression', () => {
    const error = refusal('expression', { expression: "$uppercase($value) & 'x" });
    expect(error.code).toBe('EXPRESSION_INVALID');
    expect(error.message).toMatch(/does not compile: .*String literal must be terminated.*position \d+/);
  });

  it('names the regex syntax error', () => {
    expect(refusal('regex-extract', { pattern: '^CN=(' }).message).toMatch(
      /not a valid regular expression.*Unterminated group/,
    );
  });

  it('lists every issue, first one first', () => {
    const error = refusal('join', { separator: 5, attributes: [] });
    expect(error.issues.map((i) => i.path)).toEqual([['separator'], ['attributes']]);
    expect(error.message).toMatch(/and 1 more/);
  });
});
