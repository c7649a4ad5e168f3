import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LoadedPlugin, validateDefinition } from '../../kit/definition.js';
import { PluginLoadError } from '../../kit/errors.js';
import { ALLOWED_PACKAGES } from '../../kit/index.js';
import { CODE_ROOT, COMPILED } from '../paths.js';
import { expressionPlugin } from './builtin-expression.js';
import { checkPluginSource } from './source-check.js';

/** The repository's `plugins/` directory. */
export const DEFAULT_PLUGIN_DIR = `${path.join(CODE_ROOT, 'plugins')}${path.sep}`;

const PLUGIN_FILE = /^[^.].*\.(?:ts|js)$/;
const NOT_PLUGIN = /\.(?:test|spec)\.[^.]+$|\.d\.ts$/;

/** A path for messages: relative to the working directory when it lies inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/** The plugin files of a directory, sorted so that load order (and the first fault) is stable. */
export async function pluginFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new PluginLoadError(
      'PLUGIN_DIR_UNREADABLE',
      displayPath(dir),
      `cannot read the plugin directory: ${(e as Error).message}`,
    );
  }
  return names
    .filter((n) => PLUGIN_FILE.test(n) && !NOT_PLUGIN.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

async function loadFile(file: string): Promise<LoadedPlugin> {
  const shown = displayPath(file);
  if (COMPILED && file.endsWith('.ts')) {
    throw new PluginLoadError(
      'PLUGIN_IMPORT_FAILED',
      shown,
      'is TypeScript, and the compiled server loads JavaScript: put it in plugins/ (npm start compiles it with the kit) or run `npm run dev`',
    );
  }
  const src = await readFile(file, 'utf8');
  // Before importing: an import runs the file's top-level code.
  const fault = checkPluginSource(file, src);
  if (fault?.kind === 'import') {
    throw new PluginLoadError(
      'PLUGIN_FORBIDDEN_IMPORT',
      shown,
      `line ${fault.line}: imports "${fault.specifier}"; a plugin may import only the plugin kit (../kit/index.js) and the packages it allows (${ALLOWED_PACKAGES.join(', ')})`,
    );
  }
  if (fault?.kind === 'identifier') {
    throw new PluginLoadError(
      'PLUGIN_FORBIDDEN_IDENTIFIER',
      shown,
      `line ${fault.line}: uses "${fault.identifier}", which plugins may not use`,
    );
  }
  if (fault?.kind === 'syntax') {
    throw new PluginLoadError('PLUGIN_IMPORT_FAILED', shown, `line ${fault.line}: ${fault.message}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new PluginLoadError('PLUGIN_IMPORT_FAILED', shown, `import failed: ${why}`, { cause: e });
  }
  if (!Object.hasOwn(mod, 'default') || mod.default === undefined) {
    throw new PluginLoadError(
      'PLUGIN_NO_DEFAULT_EXPORT',
      shown,
      'has no default export; write `export default defineTransform({ … })`',
    );
  }
  const plugin = await validateDefinition(mod.default, shown);
  return { ...plugin, sourceHash: createHash('sha256').update(src).digest('hex') };
}

/**
 * Discovers, checks and imports every plugin in `dir`, plus the built-ins. Throws a
 * PluginLoadError naming the file and the fault for the first bad plugin.
 */
export async function loadDefinitions(dir: string): Promise<LoadedPlugin[]> {
  const plugins = [await validateDefinition(expressionPlugin, '(built-in)', { builtin: true })];
  const byName = new Map(plugins.map((p) => [p.name, p]));
  for (const file of await pluginFiles(dir)) {
    const plugin = await loadFile(file);
    const taken = byName.get(plugin.name);
    if (taken) {
      const other = taken.file === '(built-in)' ? 'the built-in plugin' : taken.file;
      throw new PluginLoadError(
        'PLUGIN_DUPLICATE_NAME',
        plugin.file,
        `name "${plugin.name}" is already used by ${other}`,
      );
    }
    byName.set(plugin.name, plugin);
    plugins.push(plugin);
  }
  return plugins;
}
