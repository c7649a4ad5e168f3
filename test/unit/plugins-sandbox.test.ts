import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransformInput } from '../../kit/index.js';
import { startWorkers, type Workers } from '../../src/workers/workers.js';
import { evaluate } from '../helpers/transforms.js';

const input: TransformInput = {
  value: 'ada',
  values: ['ada'],
  attributes: { mail: ['ada@example.com'] },
  nameId: 'ada@example.com',
};

let registry: Workers;
beforeAll(async () => {
  registry = await startWorkers({ size: 1 });
});
afterAll(() => registry.close());

/** What an expression gives back: its value, or the failure's code. */
async function outcome(expression: string): Promise<unknown> {
  return evaluate(registry, 'expression', { expression }, input).then(
    (value) => ({ value }),
    (e: { code?: string; message?: string }) => ({ code: e.code, message: e.message }),
  );
}

describe('an inline expression reaches nothing but its inputs', () => {
  it('has no $eval: it would run IdP-supplied text as code', async () => {
    expect(await outcome('$eval("1 + 1")')).toEqual({
      code: 'TRANSFORM_FAILED',
      message: expect.stringContaining('$eval is not available in transforms'),
    });
  });

  it.each([
    '$process',
    '$globalThis',
    '$global',
    '$module',
    '$env',
    '$.constructor',
    '$value.constructor',
    '$lookup($attributes, "__proto__")',
    '$lookup($attributes, "constructor")',
    '$attributes.__proto__',
    '$params.constructor',
    '$string.constructor',
    '$keys($attributes.mail)',
    '$process.exit(1)',
    '$.constructor.constructor("return process")()',
    '$string.constructor("return process")()',
    '$require("node:fs")',
    '$import("node:fs")',
    '$fetch("http://127.0.0.1/")',
  ])('%s reaches nothing', async (expression) => {
    const result = await outcome(expression);
    // Either nothing is found (null) or the call fails; never a value from outside the inputs.
    if ('value' in (result as object)) expect(result).toEqual({ value: null });
    else expect(result).toMatchObject({ code: 'TRANSFORM_FAILED' });
    // Whatever it tried, the worker is alive and unchanged.
    expect(registry.stats()).toMatchObject({ workers: 1, starting: 0 });
    expect(await outcome('$nameId')).toEqual({ value: 'ada@example.com' });
  });

  it('cannot return a function for the caller to run', async () => {
    expect(await outcome('$uppercase')).toEqual({
      code: 'TRANSFORM_FAILED',
      message: expect.stringContaining('the result is a function'),
    });
  });

  it('returns a "__proto__" key as plain data', async () => {
    const result = await evaluate(
      registry,
      'expression',
      { expression: '{"__proto__": {"admin": true}, "a": 1}' },
      input,
    );
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(result).toEqual({ ['__proto__']: { admin: true }, a: 1 });
    expect(({} as { admin?: boolean }).admin).toBeUndefined();
  });

  it('still sees its own inputs', async () => {
    expect(await outcome('$attributes.mail[0] & " / " & $nameId & " / " & $value')).toEqual({
      value: 'ada@example.com / ada@example.com / ada',
    });
  });
});

describe('the worker boundary', () => {
  // The probe plugin evades the static source check on purpose (it is a cheap guard, not the boundary).
  const PROBE_DIR = fileURLToPath(new URL('../fixtures/bad-plugins/evasive/', import.meta.url));
  const params = { name: 'PLUGIN_PROBE_SECRET' };
  const probeInput: TransformInput = { value: null, values: [], attributes: {}, nameId: '' };

  it('keeps the server’s environment (secrets) from plugin code', async () => {
    process.env.PLUGIN_PROBE_SECRET = 'hunter2';
    const pooled = await startWorkers({ pluginDir: PROBE_DIR, size: 1 });
    const inProcess = await startWorkers({ pluginDir: PROBE_DIR, size: 0 });
    try {
      // The same code run in the server's own thread would see it: the worker is what withholds it.
      expect(await evaluate(inProcess, 'env-probe', params, probeInput)).toBe(true);
      expect(await evaluate(pooled, 'env-probe', params, probeInput)).toBe(false);
    } finally {
      delete process.env.PLUGIN_PROBE_SECRET;
      await Promise.all([pooled.close(), inProcess.close()]);
    }
  });
});
