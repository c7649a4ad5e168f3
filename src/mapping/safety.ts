import jsonata from 'jsonata';
import { AppError } from '../errors.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import type { CheckedMapping } from './mapping-rules.js';

/**
 * The regular expressions a mapping brings, checked for super-linear backtracking when the mapping
 * is written (with recheck, which searches for an attack string rather than guessing from the
 * pattern's shape): the regex literals of an inline JSONata expression, and the parameters a plugin
 * marks as regular expressions (`.meta({ format: 'regex' })`, flags from its `flags` parameter).
 * A pattern that a hostile or merely unlucky value could make run for seconds is refused before
 * any sign-in meets it; the hard deadline stays behind it for what a checker cannot prove.
 */

const CHECK_TIMEOUT_MS = 3000;

// recheck is 2.9 MB of compiled Scala: loaded when a mapping first brings a pattern, not at every start.
let recheck: Promise<typeof import('recheck')> | undefined;
const loadRecheck = () => {
  recheck ??= import('recheck');
  return recheck;
};

interface Pattern {
  source: string;
  flags: string;
  path: (string | number)[];
}

function regexLiterals(node: unknown, out: RegExp[] = []): RegExp[] {
  if (node instanceof RegExp) out.push(node);
  else if (Array.isArray(node)) for (const n of node) regexLiterals(n, out);
  else if (node && typeof node === 'object') for (const v of Object.values(node)) regexLiterals(v, out);
  return out;
}

/** The patterns a checked mapping carries, with the input path each one came from. */
export function patternsOf(
  mapping: Pick<CheckedMapping, 'kind' | 'plugin' | 'params'>,
  plugins: Pick<PluginCatalog, 'get'>,
  root: (string | number)[],
): Pattern[] {
  if (mapping.kind !== 'TRANSFORM' || !mapping.plugin || !mapping.params) return [];
  const params = mapping.params;
  const out: Pattern[] = [];
  if (mapping.plugin === 'expression' && typeof params.expression === 'string') {
    // It compiled when the parameters were checked.
    for (const re of regexLiterals(jsonata(params.expression).ast())) {
      out.push({
        source: re.source,
        flags: re.flags.replace(/g/g, ''),
        path: [...root, 'params', 'expression'],
      });
    }
  }
  const schema = plugins.get(mapping.plugin)?.paramsJsonSchema as
    | { properties?: Record<string, { format?: string }> }
    | undefined;
  for (const [name, property] of Object.entries(schema?.properties ?? {})) {
    const value = params[name];
    if (property.format === 'regex' && typeof value === 'string') {
      const flags = typeof params.flags === 'string' ? params.flags : '';
      out.push({ source: value, flags, path: [...root, 'params', name] });
    }
  }
  return out;
}

/** Refuses (PATTERN_UNSAFE, with the path of the parameter) a pattern that can backtrack catastrophically. */
export async function checkPatterns(
  mapping: Pick<CheckedMapping, 'kind' | 'plugin' | 'params' | 'field'>,
  plugins: Pick<PluginCatalog, 'get'>,
  root: (string | number)[],
): Promise<void> {
  for (const pattern of patternsOf(mapping, plugins, root)) {
    const { check } = await loadRecheck();
    const verdict = await check(pattern.source, pattern.flags, { timeout: CHECK_TIMEOUT_MS });
    if (verdict.status === 'safe') continue;
    const why =
      verdict.status === 'vulnerable'
        ? `it can take ${verdict.complexity.type === 'exponential' ? 'exponential' : 'polynomial'} time on some values (for example ${JSON.stringify(verdict.attack.pattern)})`
        : 'it could not be shown to run in linear time';
    throw new AppError(
      'PATTERN_UNSAFE',
      `the regular expression /${pattern.source}/ of the mapping to column "${mapping.field.name}" is refused: ${why}; rewrite it without nested or overlapping repetition`,
      { path: pattern.path },
    );
  }
}
