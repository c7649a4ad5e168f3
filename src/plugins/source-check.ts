import path from 'node:path';
import { ALLOWED_PACKAGES } from '../../kit/index.js';
import { CODE_ROOT } from '../paths.js';
import { lineOf, type Token, TokenizeError, tokenize } from './tokenize.js';

/**
 * The cheap, static guard run on a plugin file before it is imported (importing runs its top-level
 * code): it may import nothing but the kit (and the pure packages the kit allows), and its code (outside comments and strings) names none
 * of the identifiers that reach the process, the global object, modules, code generation or the
 * network. It catches accidents and review misses, not a determined author (`x['const' + 'ructor']`
 * is not caught); the boundary that holds regardless is the worker thread the transforms run in,
 * which has no secrets in its environment and is terminated at a hard deadline.
 */

export const FORBIDDEN_IDENTIFIERS: ReadonlySet<string> = new Set([
  'process',
  'globalThis',
  'global',
  'require',
  'module',
  'eval',
  'Function',
  'constructor',
  '__proto__',
  'Reflect',
  'WebAssembly',
  'fetch',
  'XMLHttpRequest',
  'WebSocket',
]);

const KIT_MODULE = stripExtension(path.join(CODE_ROOT, 'kit', 'index.js'));

function stripExtension(file: string): string {
  return file.replace(/\.(?:[cm]?[jt]s)$/, '');
}

/** Whether an import specifier in `file` names the kit module (as .js or .ts). */
export function isKitSpecifier(file: string, specifier: string): boolean {
  if (!specifier.startsWith('.')) return false;
  return stripExtension(path.resolve(path.dirname(file), specifier)) === KIT_MODULE;
}

/** What a plugin may import: the kit, or one of the pure packages the kit allows (by exact name). */
const isAllowedSpecifier = (file: string, specifier: string): boolean =>
  isKitSpecifier(file, specifier) || ALLOWED_PACKAGES.includes(specifier);

export type SourceFault =
  | { kind: 'import'; specifier: string; line: number }
  | { kind: 'identifier'; identifier: string; line: number }
  | { kind: 'syntax'; message: string; line: number };

/** Finds the module specifier of a static import/export: the string after `from`, or right after `import`. */
function specifierAfter(tokens: Token[], start: number): Token | undefined {
  const first = tokens[start + 1];
  if (first?.kind === 'string') return first;
  for (let k = start + 1; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind === 'punct' && t.value === ';') return undefined;
    if (t.kind === 'ident' && t.value === 'from' && tokens[k + 1]?.kind === 'string') return tokens[k + 1];
  }
  return undefined;
}

function isReExport(tokens: Token[], k: number): boolean {
  let next = tokens[k + 1];
  if (next?.kind === 'ident' && next.value === 'type') next = tokens[k + 2];
  return next?.kind === 'punct' && (next.value === '*' || next.value === '{');
}

/** Returns the first fault in a plugin's source, or undefined when it passes. */
export function checkPluginSource(file: string, src: string): SourceFault | undefined {
  let tokens: Token[];
  try {
    tokens = tokenize(src);
  } catch (e) {
    if (e instanceof TokenizeError) return { kind: 'syntax', message: e.message, line: lineOf(src, e.pos) };
    throw e;
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind !== 'ident') continue;
    const line = lineOf(src, t.pos);
    if (FORBIDDEN_IDENTIFIERS.has(t.value)) return { kind: 'identifier', identifier: t.value, line };
    const prev = tokens[k - 1];
    if (prev?.kind === 'punct' && prev.value === '.') continue; // a property called `import`
    if (t.value === 'import') {
      const next = tokens[k + 1];
      if (next?.kind === 'punct' && next.value === '(')
        return { kind: 'identifier', identifier: 'import(', line };
      if (next?.kind === 'punct' && next.value === '.') {
        return { kind: 'identifier', identifier: 'import.meta', line };
      }
      const spec = specifierAfter(tokens, k);
      if (!spec) return { kind: 'syntax', message: 'import without a module specifier', line };
      if (!isAllowedSpecifier(file, spec.value)) return { kind: 'import', specifier: spec.value, line };
    } else if (t.value === 'export' && isReExport(tokens, k)) {
      const spec = specifierAfter(tokens, k);
      if (spec && !isAllowedSpecifier(file, spec.value))
        return { kind: 'import', specifier: spec.value, line };
    }
  }
  return undefined;
}
