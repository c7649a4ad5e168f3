import jsonata from 'jsonata';
import semver from 'semver';
import { tryCompile } from './compile.js';
import { PluginLoadError, type PluginLoadErrorCode } from './errors.js';
import {
  type JsonValue,
  KIT_VERSION,
  type ParamsSchema,
  type TransformExample,
  type TransformHelper,
  type TransformInput,
  toTransformInput,
  z,
} from './index.js';
import { signatureError } from './signature.js';

/** A plugin that passed every check: what the registry, evaluator and worker work with. */
export interface LoadedPlugin {
  name: string;
  version: string;
  description: string;
  /** Source file, relative to the working directory; `(built-in)` for built-ins. */
  file: string;
  params: ParamsSchema;
  /** The plugin's JSONata, or null for the built-in whose expression is its parameter. */
  expression: string | null;
  helpers: Readonly<Record<string, TransformHelper>>;
  examples: LoadedExample[];
  /** SHA-256 of the source file as checked; lets a worker prove it runs the same code. */
  sourceHash?: string;
}

export interface LoadedExample {
  description: string;
  input: TransformInput;
  params: unknown;
  output?: JsonValue;
  fails?: string;
}

export const PLUGIN_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const HELPER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Names the evaluator binds for every evaluation; a helper may not hide them. */
export const RESERVED_BINDINGS: ReadonlySet<string> = new Set([
  'value',
  'values',
  'attributes',
  'nameId',
  'params',
  'eval',
]);

const stringList = z.array(z.string());
const exampleGuard = z
  .object({
    description: z.string().min(1),
    input: z
      .object({
        value: z.union([z.string(), stringList, z.null()]).optional(),
        values: stringList.optional(),
        attributes: z.record(z.string(), stringList).optional(),
        nameId: z.string().optional(),
      })
      .strict(),
    params: z.unknown(),
    output: z.json().optional(),
    fails: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (e) => (e.output === undefined) !== (e.fails === undefined),
    'give exactly one of output and fails',
  );

const definitionGuard = z
  .object({
    name: z.string(),
    version: z.string(),
    kit: z.string(),
    description: z.string().min(1),
    params: z.custom<ParamsSchema>(
      (v) => v instanceof z.ZodObject,
      'must be a z.object(…) schema from the kit',
    ),
    expression: z.string().min(1),
    helpers: z
      .record(
        z.string(),
        z
          .object({
            fn: z.custom<TransformHelper['fn']>((v) => typeof v === 'function', 'must be a function'),
            signature: z.string(),
          })
          .strict(),
      )
      .optional(),
    examples: z.array(exampleGuard).min(1, 'at least one example is required'),
  })
  .strict();

const describePath = (path: readonly PropertyKey[]): string =>
  path.length === 0 ? '(root)' : path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.');

/** Checks a plugin module's default export and returns the plugin it defines. */
export async function validateDefinition(
  exported: unknown,
  file: string,
  options: { builtin?: boolean } = {},
): Promise<LoadedPlugin> {
  const refuse = (code: PluginLoadErrorCode, fault: string): never => {
    throw new PluginLoadError(code, file, fault);
  };
  const shape = definitionGuard.safeParse(exported);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const where = issue ? describePath(issue.path) : '(root)';
    refuse(
      'PLUGIN_INVALID_DEFINITION',
      `default export is not a transform definition: ${where}: ${issue?.message}`,
    );
  }
  // The guard checked the shape; keep the author's own objects (zod schemas, helper functions).
  const def = exported as z.infer<typeof definitionGuard> & { examples: TransformExample<unknown>[] };

  if (!PLUGIN_NAME.test(def.name) || def.name.length > 64) {
    refuse('PLUGIN_INVALID_NAME', `name "${def.name}" must be 1-64 characters of a-z, 0-9 and inner dashes`);
  }
  if (semver.valid(def.version) === null) {
    refuse('PLUGIN_INVALID_VERSION', `version "${def.version}" is not a semantic version (e.g. 1.0.0)`);
  }
  if (semver.validRange(def.kit) === null) {
    refuse('PLUGIN_KIT_INCOMPATIBLE', `kit "${def.kit}" is not a semver range (e.g. ^2.0.0)`);
  }
  if (!semver.satisfies(KIT_VERSION, def.kit)) {
    refuse('PLUGIN_KIT_INCOMPATIBLE', `needs plugin kit ${def.kit}, but this is kit ${KIT_VERSION}`);
  }

  const compiled = tryCompile(def.expression);
  if (!compiled.ok)
    refuse('PLUGIN_EXPRESSION_INVALID', `expression does not compile: ${compiled.failure.message}`);

  const helpers = def.helpers ?? {};
  for (const [name, helper] of Object.entries(helpers)) {
    if (!HELPER_NAME.test(name))
      refuse('PLUGIN_HELPER_INVALID', `helper name "${name}" is not a JSONata name`);
    if (RESERVED_BINDINGS.has(name)) refuse('PLUGIN_HELPER_INVALID', `helper name "${name}" is reserved`);
    if (await isJsonataBuiltin(name)) {
      refuse('PLUGIN_HELPER_INVALID', `helper "${name}" would hide the JSONata function $${name}`);
    }
    const bad = signatureError(helper.signature);
    if (bad) refuse('PLUGIN_HELPER_INVALID', `helper "${name}" signature "${helper.signature}": ${bad}`);
  }

  const examples = def.examples.map((example, index): LoadedExample => {
    const parsed = def.params.safeParse(example.params);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      refuse(
        'PLUGIN_EXAMPLE_INVALID',
        `example ${index + 1} ("${example.description}") has invalid params: ${describePath(issue?.path ?? [])}: ${issue?.message}`,
      );
    }
    return {
      description: example.description,
      input: toTransformInput(example.input),
      params: example.params,
      ...(example.fails !== undefined ? { fails: example.fails } : { output: example.output as JsonValue }),
    };
  });

  return {
    name: def.name,
    version: def.version,
    description: def.description,
    file,
    params: def.params,
    expression: options.builtin && def.name === 'expression' ? null : def.expression,
    helpers,
    examples,
  };
}

async function isJsonataBuiltin(name: string): Promise<boolean> {
  const found: unknown = await jsonata(`$${name}`).evaluate(undefined);
  return found !== undefined;
}
