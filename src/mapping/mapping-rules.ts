import { z } from 'zod';
import { AppError, parseInput } from '../errors.js';
import type { PluginCatalog } from '../plugins/catalog.js';
import {
  type ContactField,
  findContactField,
  KNOWN_MULTI_VALUED_ATTRIBUTES,
} from '../users/contact-fields.js';
import { coerceToField } from './coerce.js';
import { fromPluginError } from './engine.js';
import { FailurePolicy, MappingKind, MultiValuePolicy, WritePolicy } from './mapping.entity.js';

/** A mapping as an admin writes it (create, update, or a draft set to preview). */
export const MappingFields = z.object({
  kind: z.enum(MappingKind).default('COPY'),
  attributeName: z.string().trim().min(1).max(1024).nullish(),
  column: z.string().min(1).max(64),
  plugin: z.string().min(1).max(64).nullish(),
  params: z.record(z.string(), z.unknown()).nullish(),
  required: z.boolean().default(false),
  defaultValue: z.union([z.string().max(2048), z.array(z.string().max(2048)).max(100)]).nullish(),
  multiValue: z.enum(MultiValuePolicy).default('REFUSE'),
  separator: z.string().max(16).default(', '),
  writePolicy: z.enum(WritePolicy).default('ALWAYS'),
  onFailure: z.enum(FailurePolicy).nullish(),
});
export type MappingFields = z.output<typeof MappingFields>;

export interface CheckedMapping extends Omit<MappingFields, 'onFailure'> {
  field: ContactField;
  params: Record<string, unknown> | null;
  onFailure: FailurePolicy;
}

/**
 * Checks a mapping when it is written, not at sign-in: the column exists, a COPY names its
 * attribute, a known multi-valued attribute only lands in a list column (or with FIRST/JOIN), the
 * plugin exists and its parameters (an inline expression included) are valid, and a default value
 * fits the column. Every refusal carries the path of the offending input.
 */
export function checkMapping(
  raw: unknown,
  plugins: Pick<PluginCatalog, 'validateParams'>,
  root: (string | number)[],
  custom: readonly ContactField[] = [],
): CheckedMapping {
  const m = parseInput(MappingFields, raw, root.map(String));
  const at = (...p: (string | number)[]) => ({ path: [...root, ...p] });
  const field = findContactField(m.column, custom);
  if (!field) {
    throw new AppError(
      'MAPPING_INVALID',
      `contact has no column "${m.column}" (see the contactFields query)`,
      at('column'),
    );
  }
  if (m.kind === 'COPY') {
    if (!m.attributeName)
      throw new AppError('MAPPING_INVALID', 'a COPY mapping needs an attributeName', at('attributeName'));
    if (m.plugin || m.params)
      throw new AppError('MAPPING_INVALID', 'a COPY mapping takes no plugin', at('plugin'));
    if (
      !field.multiValued &&
      m.multiValue === 'REFUSE' &&
      KNOWN_MULTI_VALUED_ATTRIBUTES.has(m.attributeName)
    ) {
      throw new AppError(
        'MAPPING_INVALID',
        `attribute "${m.attributeName}" is multi-valued and column "${field.name}" takes one value: ` +
          'map it to a list column, or choose multiValue FIRST or JOIN',
        at('column'),
      );
    }
  }
  let params: Record<string, unknown> | null = null;
  if (m.kind === 'TRANSFORM') {
    if (!m.plugin) throw new AppError('MAPPING_INVALID', 'a TRANSFORM mapping needs a plugin', at('plugin'));
    try {
      params = (plugins.validateParams(m.plugin, m.params ?? {}) ?? {}) as Record<string, unknown>;
    } catch (e) {
      const error = fromPluginError(e, [
        ...root,
        e && (e as { code?: string }).code === 'PLUGIN_NOT_FOUND' ? 'plugin' : 'params',
      ]);
      throw error;
    }
  }
  if (m.required && m.defaultValue !== null && m.defaultValue !== undefined) {
    throw new AppError(
      'MAPPING_INVALID',
      'a required mapping cannot have a default value',
      at('defaultValue'),
    );
  }
  if (m.defaultValue !== null && m.defaultValue !== undefined) {
    const values = Array.isArray(m.defaultValue) ? m.defaultValue : [m.defaultValue];
    try {
      coerceToField(values, field, { mappingId: 'new', attributeName: 'defaultValue' });
    } catch (e) {
      const reason = e instanceof AppError ? e.message.replace(/^[^:]*: /, '') : 'invalid';
      throw new AppError(
        'MAPPING_INVALID',
        `defaultValue does not fit column "${field.name}": ${reason}`,
        at('defaultValue'),
      );
    }
  }
  return { ...m, field, params, onFailure: failurePolicy(m, at) };
}

/**
 * The failure policy, given or by default: a required mapping refuses (that is what required
 * means); an optional one never does unless asked — it writes its default value when it has one,
 * and otherwise leaves the column as it is. Combinations that cannot mean anything are refused.
 */
function failurePolicy(
  m: MappingFields,
  at: (...p: (string | number)[]) => { path: (string | number)[] },
): FailurePolicy {
  const hasDefault = m.defaultValue !== null && m.defaultValue !== undefined;
  const policy = m.onFailure ?? (m.required ? 'REFUSE' : hasDefault ? 'DEFAULT' : 'KEEP');
  if (m.required && policy !== 'REFUSE') {
    throw new AppError(
      'MAPPING_INVALID',
      'a required mapping refuses the sign-in when it fails (onFailure REFUSE); make it optional to keep or default instead',
      at('onFailure'),
    );
  }
  if (policy === 'DEFAULT' && !hasDefault) {
    throw new AppError('MAPPING_INVALID', 'onFailure DEFAULT needs a defaultValue', at('onFailure'));
  }
  return policy;
}
