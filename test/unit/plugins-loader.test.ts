import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPluginLoadError, type PluginLoadError } from '../../kit/errors.js';
import { DEFAULT_PLUGIN_DIR } from '../../src/plugins/discover.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';
import { evaluate } from '../helpers/transforms.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/bad-plugins/', import.meta.url));

async function refusal(fixture: string): Promise<PluginLoadError> {
  // In-process: the refusals come from the loader's checks, before any worker would start.
  const error = await startWorkers({ pluginDir: path.join(FIXTURES, fixture), size: 0 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPluginLoadError(error)) throw new Error(`expected a PluginLoadError, got ${String(error)}`);
  return error;
}

describe('plugin loader refusals (each names the file and the fault)', () => {
  it.each([
    ['no-default-export', 'PLUGIN_NO_DEFAULT_EXPORT', 'named.ts', /no default export/],
    ['bad-shape', 'PLUGIN_INVALID_DEFINITION', 'shape.ts', /params: must be a z\.object/],
    ['bad-name', 'PLUGIN_INVALID_NAME', 'name.ts', /name "Bad_Name"/],
    ['duplicate-name', 'PLUGIN_DUPLICATE_NAME', 'b-second.ts', /"dup" is already used by .*a-first\.ts/],
    [
      'builtin-name',
      'PLUGIN_DUPLICATE_NAME',
      'expression.ts',
      /"expression" is already used by the built-in/,
    ],
    ['bad-semver', 'PLUGIN_INVALID_VERSION', 'semver.ts', /version "1\.0" is not a semantic version/],
    [
      'kit-unsatisfied',
      'PLUGIN_KIT_INCOMPATIBLE',
      'kit.ts',
      /needs plugin kit \^3\.0\.0, but this is kit 2\.0\.0/,
    ],
    ['kit-range-invalid', 'PLUGIN_KIT_INCOMPATIBLE', 'kit.ts', /"one point oh" is not a semver range/],
    ['expression-invalid', 'PLUGIN_EXPRESSION_INVALID', 'broken.ts', /does not compile: .*position 17/],
    ['helper-signature-invalid', 'PLUGIN_HELPER_INVALID', 'helper.ts', /signature "<q:s>": unknown type "q"/],
    [
      'helper-shadows-builtin',
      'PLUGIN_HELPER_INVALID',
      'helper.ts',
      /would hide the JSONata function \$string/,
    ],
    ['example-invalid', 'PLUGIN_EXAMPLE_INVALID', 'example.ts', /example 1 \("zero width"\).*width/],
    ['forbidden-import-fs', 'PLUGIN_FORBIDDEN_IMPORT', 'reads-files.ts', /line 1: imports "node:fs"/],
    [
      'forbidden-import-module',
      'PLUGIN_FORBIDDEN_IMPORT',
      'errors.ts',
      /imports "\.\.\/\.\.\/\.\.\/\.\.\/src\/errors\.js"/,
    ],
    ['forbidden-identifier', 'PLUGIN_FORBIDDEN_IDENTIFIER', 'env.ts', /line 11: uses "process"/],
    ['forbidden-dynamic-import', 'PLUGIN_FORBIDDEN_IDENTIFIER', 'lazy.ts', /uses "import\("/],
    ['import-throws', 'PLUGIN_IMPORT_FAILED', 'throws.ts', /import failed: lookup table is empty/],
    ['does-not-exist', 'PLUGIN_DIR_UNREADABLE', 'does-not-exist', /cannot read the plugin directory/],
  ])('%s → %s', async (fixture, code, file, fault) => {
    const error = await refusal(fixture);
    expect(error.code).toBe(code);
    expect(error.file).toBe(path.join('test/fixtures/bad-plugins', fixture, file === fixture ? '' : file));
    expect(error.fault).toMatch(fault);
    expect(error.message).toBe(`${error.file}: ${error.fault}`);
  });

  it('refuses before importing: a forbidden file never runs', async () => {
    // reads-files.ts would read /etc/hostname at call time, env.ts would read the environment; the
    // proof that neither was imported is that their refusal is the static one, not a later check.
    expect((await refusal('forbidden-import-fs')).code).toBe('PLUGIN_FORBIDDEN_IMPORT');
    expect((await refusal('forbidden-identifier')).code).toBe('PLUGIN_FORBIDDEN_IDENTIFIER');
  });
});

describe('loading through the workers', () => {
  it('refuses the same way when the workers find the fault first', async () => {
    const error = await startWorkers({
      pluginDir: path.join(FIXTURES, 'forbidden-import-fs'),
      size: 1,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PLUGIN_FORBIDDEN_IMPORT',
      message: expect.stringMatching(/reads-files\.ts: line 1: imports "node:fs"/),
    });
  });

  it('gives up on a plugin whose top-level code never finishes, instead of hanging the start', async () => {
    const t0 = performance.now();
    const error = await startWorkers({
      pluginDir: path.join(FIXTURES, 'top-level-loop'),
      size: 1,
      startupMs: 2000,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'PLUGIN_WORKER_FAILED',
      message: expect.stringMatching(/did not finish loading the plugins within 2000 ms/),
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('refuses nonsense options', async () => {
    await expect(startWorkers({ size: -1 })).rejects.toThrow(/size must be a whole number/);
  });
});

describe('the shipped plugins', () => {
  let registry: Workers;
  beforeAll(async () => {
    registry = await startWorkers({ pluginDir: DEFAULT_PLUGIN_DIR, size: 1 });
  });
  afterAll(() => registry.close());

  it('all load, with the built-in expression plugin first', () => {
    expect(registry.plugins.list().map((p) => p.name)).toEqual([
      'expression',
      'display-name',
      'email-from-upn',
      'first-non-empty',
      'join',
      'lowercase-trim',
      'phone-e164',
      'regex-extract',
      'value-map',
    ]);
  });

  it('describes each plugin for the admin form: version, description, JSON Schema, examples', () => {
    for (const info of registry.plugins.list()) {
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(info.description.length).toBeGreaterThan(10);
      expect(info.paramsJsonSchema).toMatchObject({ type: 'object' });
      expect(info.examples.length).toBeGreaterThan(0);
    }
    expect(registry.plugins.get('value-map')?.paramsJsonSchema).toMatchObject({
      type: 'object',
      properties: {
        map: { type: 'object', additionalProperties: { type: 'string' } },
        default: { type: 'string' },
        caseInsensitive: { type: 'boolean', default: false },
      },
      required: ['map'],
    });
    expect(registry.plugins.get('expression')).toMatchObject({
      builtin: true,
      paramsJsonSchema: { properties: { expression: { type: 'string', maxLength: 4000 } } },
    });
    expect(registry.plugins.get('nope')).toBeUndefined();
  });

  it('fills example inputs the way a sign-in presents them', () => {
    const example = registry.plugins.get('join')?.examples[0];
    expect(example?.input).toEqual({
      value: ['Sales', 'EMEA'],
      values: ['Sales', 'EMEA'],
      attributes: {},
      nameId: '',
    });
  });
});

describe('a plugin file changed while the server runs', () => {
  const dir = path.join(FIXTURES, `.tmp-changed-${process.pid}`);
  const source = (expression: string) => `import { defineTransform, z } from '../../../../kit/index.js';

export default defineTransform({
  name: 'changing',
  version: '1.0.0',
  kit: '^2.0.0',
  description: 'Edited on disk after the server loaded it.',
  params: z.object({}),
  expression: '${expression}',
  examples: [{ description: 'x', input: { value: 'a' }, params: {}, output: 'A' }],
});
`;

  it('is never run: a replacement worker refuses code the server did not check', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'changing.ts'), source('$uppercase($value)'));
    const registry = await startWorkers({ pluginDir: dir, size: 1, transformDeadlineMs: 100 });
    try {
      const input = { value: 'a', values: ['a'], attributes: {}, nameId: '' };
      expect(await evaluate(registry, 'changing', {}, input)).toBe('A');
      await writeFile(path.join(dir, 'changing.ts'), source('$lowercase($value)'));
      // Stop the only worker, so that a new one has to load the plugins again.
      const runaway = { expression: '$match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", /^(a+)+$/)' };
      await expect(evaluate(registry, 'expression', runaway, input)).rejects.toMatchObject({
        reason: 'deadline',
      });
      await expect(evaluate(registry, 'changing', {}, input)).rejects.toMatchObject({
        code: 'TRANSFORM_FAILED',
        reason: 'unavailable',
        message: expect.stringMatching(/plugins changed since the server started.*restart the server/),
      });
    } finally {
      await registry.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
