import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { signatureError } from '../../kit/signature.js';
import { checkPluginSource } from '../../src/plugins/source-check.js';

const PLUGIN = fileURLToPath(new URL('../../plugins/some-plugin.ts', import.meta.url));
const KIT_IMPORT = "import { defineTransform, z } from '../kit/index.js';\n";
const check = (src: string) => checkPluginSource(PLUGIN, src);

describe('plugin source check', () => {
  it('accepts the kit, by .js or .ts, and type-only imports of it', () => {
    expect(check(KIT_IMPORT)).toBeUndefined();
    expect(check("import type { JsonValue } from '../kit/index.ts';")).toBeUndefined();
    expect(check("export { z } from '../kit/index.js';")).toBeUndefined();
  });

  it('accepts the pure packages the kit allows, by their exact name only', () => {
    expect(check("import { parsePhoneNumberFromString } from 'libphonenumber-js';")).toBeUndefined();
    expect(check("import { parse } from 'libphonenumber-js/core';")).toMatchObject({
      kind: 'import',
      specifier: 'libphonenumber-js/core',
    });
  });

  it('resolves the kit relative to the plugin file', () => {
    const nested = path.join(path.dirname(PLUGIN), 'nested', 'p.ts');
    expect(checkPluginSource(nested, "import { z } from '../../kit/index.js';")).toBeUndefined();
    expect(checkPluginSource(nested, KIT_IMPORT)).toMatchObject({ kind: 'import' });
  });

  it.each([
    ["import fs from 'node:fs';", 'node:fs'],
    ["import { z } from 'zod';", 'zod'],
    ["import '../src/plugins/loader.js';", '../src/plugins/loader.js'],
    ["export * from 'node:http';", 'node:http'],
    ["import type { Config } from '../src/config/config.js';", '../src/config/config.js'],
    ["import {\n  x,\n} from 'node:net'", 'node:net'],
  ])('refuses %s', (src, specifier) => {
    expect(check(KIT_IMPORT + src)).toMatchObject({ kind: 'import', specifier, line: 2 });
  });

  it.each([
    ['process.env.X', 'process'],
    ['const g = globalThis;', 'globalThis'],
    ["const m = require('fs');", 'require'],
    ["eval('1')", 'eval'],
    ["new Function('return 1')", 'Function'],
    ["import('node:fs')", 'import('],
    ['const u = import.meta.url;', 'import.meta'],
    ["({}).constructor.constructor('return this')()", 'constructor'],
    ["fetch('http://127.0.0.1')", 'fetch'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: plugin source under test, not a template
    ['const x = `${process.pid}`;', 'process'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: plugin source under test, not a template
    ['const p = { a: `x ${`y ${globalThis}`}` };', 'globalThis'],
  ])('refuses the identifier in %s', (src, identifier) => {
    expect(check(KIT_IMPORT + src)).toMatchObject({ kind: 'identifier', identifier, line: 2 });
  });

  it('ignores forbidden words in comments, strings, template text and regex literals', () => {
    const src = `${KIT_IMPORT}
      // process.env would be read here, eval too
      /* globalThis, require('fs'), import('x') */
      const a = 'process.exit()';
      const b = "import fs from 'node:fs'";
      const c = \`require \${'x'} process\`;
      const d = /process|eval/.test(a) ? 1 / 2 : 3 / 4;
      const e = a.length / 2 / (b.length || 1);
    `;
    expect(check(src)).toBeUndefined();
  });

  it('refuses escapes outside strings (\\u0070rocess is process)', () => {
    expect(check(`${KIT_IMPORT}const x = \\u0070rocess;`)).toMatchObject({ kind: 'syntax', line: 2 });
  });
});

describe('helper signature check', () => {
  it.each([
    '<s:s>',
    '<s-:s>',
    '<sn?:s>',
    '<a<s>:a<s>>',
    '<f<n:n>a:a>',
    '<(sn)s?:s>',
    '<x+:x>',
    '<:s>',
    '<o>',
  ])('accepts %s', (signature) => {
    expect(signatureError(signature)).toBeUndefined();
  });

  it.each([
    ['<q:s>', /unknown type "q" at position 1/],
    ['<s:s', /expected ">"/],
    ['s:s', /expected "<" at position 0/],
    ['', /expected "<"/],
    ['<s<n>:s>', /type "s" takes no type parameter/],
    ['<():s>', /empty type choice/],
    ['<s:s>x', /unexpected text/],
  ])('refuses %s', (signature, message) => {
    expect(signatureError(signature)).toMatch(message);
  });
});
