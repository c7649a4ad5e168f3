import Form, { getDefaultRegistry } from '@rjsf/core';
import type { ErrorSchema, RJSFSchema, WidgetProps } from '@rjsf/utils';
import { type ComponentType, type FormEvent, useMemo, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { EntraClaims } from '../../../scripts/demo-idp/claims.ts';
import { graphql, readFragment } from '../graphql.ts';
import { validator } from '../json-schema-validator.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';
import { type Impact, ImpactFields, ImpactView } from './impact.tsx';

export interface ContactFieldInfo {
  name: string;
  label: string;
  type: string;
  multiValued: boolean;
  description: string;
}
export interface PluginInfo {
  name: string;
  version: string;
  description: string;
  paramsSchema: unknown;
}
export interface StoredMapping {
  id: string;
  attributeName: string | null;
  column: string;
  kind: 'COPY' | 'TRANSFORM';
  plugin: string | null;
  params: unknown;
  required: boolean;
  defaultValue: unknown;
  multiValue: 'FIRST' | 'JOIN' | 'REFUSE';
  separator: string;
  onFailure: 'DEFAULT' | 'KEEP' | 'REFUSE';
  writePolicy: 'ALWAYS' | 'IF_EMPTY' | 'ON_CREATE';
}

const AddMapping = graphql(
  `
  mutation AddMapping($input: AddAttributeMappingInput!) {
    addAttributeMapping(input: $input) {
      __typename
      ... on AttributeMapping {
        id
      }
      ... on InputError {
        code
        message
        path
      }
      ... on MappingChangeRefused {
        code
        message
        impact {
          ...ImpactFields
        }
      }
    }
  }
`,
  [ImpactFields],
);

const UpdateMapping = graphql(
  `
  mutation UpdateMapping($input: UpdateAttributeMappingInput!) {
    updateAttributeMapping(input: $input) {
      __typename
      ... on AttributeMapping {
        id
      }
      ... on InputError {
        code
        message
        path
      }
      ... on MappingChangeRefused {
        code
        message
        impact {
          ...ImpactFields
        }
      }
    }
  }
`,
  [ImpactFields],
);

const CheckChange = graphql(
  `
  query CheckMappingChange($input: MappingChangeInput!) {
    checkMappingChange(input: $input) {
      __typename
      ...ImpactFields
      ... on InputError {
        code
        message
        path
      }
    }
  }
`,
  [ImpactFields],
);

interface Draft {
  attributeName: string;
  column: string;
  kind: 'COPY' | 'TRANSFORM';
  plugin: string;
  params: Record<string, unknown>;
  required: boolean;
  defaultValue: string;
  multiValue: 'FIRST' | 'JOIN' | 'REFUSE';
  separator: string;
  onFailure: '' | 'DEFAULT' | 'KEEP' | 'REFUSE';
  writePolicy: 'ALWAYS' | 'IF_EMPTY' | 'ON_CREATE';
}

const INLINE = 'expression';

function draftOf(m: StoredMapping | null): Draft {
  if (!m) {
    return {
      attributeName: '',
      column: '',
      kind: 'COPY',
      plugin: '',
      params: {},
      required: false,
      defaultValue: '',
      multiValue: 'REFUSE',
      separator: ', ',
      onFailure: '',
      writePolicy: 'ALWAYS',
    };
  }
  const dv = m.defaultValue;
  return {
    attributeName: m.attributeName ?? '',
    column: m.column,
    kind: m.kind,
    plugin: m.plugin ?? '',
    params: (m.params as Record<string, unknown> | null) ?? {},
    required: m.required,
    defaultValue: dv === null || dv === undefined ? '' : Array.isArray(dv) ? dv.join(', ') : String(dv),
    multiValue: m.multiValue,
    separator: m.separator,
    onFailure: m.onFailure,
    writePolicy: m.writePolicy,
  };
}

/** The draft as the API's MappingDefinitionInput. */
function definition(d: Draft, field: ContactFieldInfo | undefined) {
  const dv = d.defaultValue.trim();
  return {
    column: d.column,
    kind: d.kind,
    attributeName: d.attributeName.trim() || null,
    ...(d.kind === 'TRANSFORM' ? { plugin: d.plugin, params: d.params } : {}),
    required: d.required,
    defaultValue: dv
      ? field?.multiValued
        ? dv
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : dv
      : null,
    multiValue: d.multiValue,
    ...(d.multiValue === 'JOIN' ? { separator: d.separator } : {}),
    ...(d.onFailure ? { onFailure: d.onFailure } : {}),
    writePolicy: d.writePolicy,
  };
}

/** A refusal about one plugin parameter, as the form library shows it beside that parameter. */
function paramErrors(refusal: Refusal | null): ErrorSchema | undefined {
  const path = refusal?.path ?? [];
  const at = path.indexOf('params');
  if (at < 0) return undefined;
  const rest = path.slice(at + 1);
  if (!rest.length) return { __errors: [refusal?.message ?? ''] } as ErrorSchema;
  const out: Record<string, unknown> = {};
  let node = out;
  for (const [i, key] of rest.entries()) {
    const next: Record<string, unknown> = i === rest.length - 1 ? { __errors: [refusal?.message] } : {};
    node[key] = next;
    node = next;
  }
  return out as ErrorSchema;
}

const DefaultSelect = getDefaultRegistry().widgets.SelectWidget as ComponentType<WidgetProps>;

/**
 * The form library's select, with a label where it renders none: the chooser between the
 * alternatives of an anyOf/oneOf parameter (e.g. a capture group by number or by name).
 */
function LabelledSelect(props: WidgetProps) {
  if (!/__(any|one)of_select$/.test(props.name)) return <DefaultSelect {...props} />;
  return (
    <div className="field">
      <label htmlFor={props.id}>{`${props.label}: kind of value`}</label>
      <DefaultSelect {...props} />
    </div>
  );
}
const WIDGETS = { SelectWidget: LabelledSelect };

const ENTRA_CLAIMS = [...new Set(Object.values(EntraClaims))];

/** The parameter schema without its `$schema` (the validator is told the draft). */
function formSchema(p: PluginInfo | undefined): RJSFSchema | null {
  if (!p || typeof p.paramsSchema !== 'object' || p.paramsSchema === null) return null;
  const { $schema: _drop, ...schema } = p.paramsSchema as Record<string, unknown>;
  return titled(schema) as RJSFSchema;
}

/** Alternatives (anyOf/oneOf) without a title get their type as one, not the library's "Option 1". */
function titled(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(titled);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] =
      (k === 'anyOf' || k === 'oneOf') && Array.isArray(v)
        ? v.map((alt) => {
            const a = titled(alt) as Record<string, unknown>;
            const kind =
              a.type === 'integer' || a.type === 'number'
                ? 'a number'
                : a.type === 'string'
                  ? 'a name'
                  : undefined;
            return a.title || !kind ? a : { ...a, title: kind };
          })
        : titled(v);
  }
  return out;
}

export function MappingEditor({
  connectionId,
  mapping,
  fields,
  plugins,
  knownAttributes,
  seenCount,
  onDone,
}: {
  connectionId: string;
  /** null: a new mapping */
  mapping: StoredMapping | null;
  fields: readonly ContactFieldInfo[];
  plugins: readonly PluginInfo[];
  knownAttributes: readonly string[];
  /** How many recent sign-ins carried each attribute (from IdpConnection.seenAttributes). */
  seenCount?: ReadonlyMap<string, number>;
  onDone(saved: boolean): void;
}) {
  const [draft, setDraft] = useState(() => draftOf(mapping));
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [impact, setImpact] = useState<{ impact: Impact; refused: boolean } | null>(null);
  const [addState, add] = useMutation(AddMapping);
  const [updateState, update] = useMutation(UpdateMapping);
  const client = useClient();
  const field = fields.find((f) => f.name === draft.column);
  const plugin = plugins.find((p) => p.name === draft.plugin);
  const schema = useMemo(() => formSchema(plugin), [plugin]);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const err = (name: string) => (refusal?.path?.at(-1) === name ? refusal.message : undefined);
  const id = mapping ? `m-${mapping.id}` : 'm-new';
  const title = mapping ? `Edit mapping to ${mapping.column}` : 'New mapping';

  const change = () =>
    mapping
      ? { update: { id: mapping.id, mapping: definition(draft, field) } }
      : { add: { connectionId, mapping: definition(draft, field) } };

  async function check() {
    setRefusal(null);
    setImpact(null);
    const r = await client
      .query(CheckChange, { input: change() }, { requestPolicy: 'network-only' })
      .toPromise();
    const out = r.data?.checkMappingChange;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'MappingImpact')
      setImpact({ impact: readFragment(ImpactFields, out), refused: false });
  }

  async function save(force: boolean) {
    setRefusal(null);
    const def = definition(draft, field);
    const out = mapping
      ? (await update({ input: { id: mapping.id, mapping: def, force } })).data?.updateAttributeMapping
      : (await add({ input: { connectionId, mapping: def, force } })).data?.addAttributeMapping;
    if (out?.__typename === 'AttributeMapping') onDone(true);
    else if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'MappingChangeRefused') {
      setRefusal({ code: out.code, message: out.message });
      setImpact({ impact: readFragment(ImpactFields, out.impact), refused: true });
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void save(false);
  }

  const busy = addState.fetching || updateState.fetching;
  return (
    <form onSubmit={submit} className="card" aria-label={title}>
      <h2>{title}</h2>
      <Field
        id={`${id}-attr`}
        label="SAML attribute"
        hint="Exactly as the IdP sends it (Entra: a claim URI). Suggested: the names recent sign-ins carried, then Entra's claims."
        error={err('attributeName')}
      >
        <input
          id={`${id}-attr`}
          list={`${id}-attr-list`}
          value={draft.attributeName}
          onChange={(e) => set('attributeName', e.target.value)}
          {...described(`${id}-attr`, err('attributeName'), 'x')}
        />
        <datalist id={`${id}-attr-list`}>
          {[...new Set([...knownAttributes, ...ENTRA_CLAIMS])].map((a) => {
            const n = seenCount?.get(a);
            return (
              <option key={a} value={a}>
                {n ? `sent in ${n} recent sign-in${n === 1 ? '' : 's'}` : undefined}
              </option>
            );
          })}
        </datalist>
      </Field>
      <Field id={`${id}-column`} label="Contact field" error={err('column')} hint={field?.description}>
        <select
          id={`${id}-column`}
          required
          value={draft.column}
          onChange={(e) => set('column', e.target.value)}
          {...described(`${id}-column`, err('column'), field?.description)}
        >
          <option value="">Choose a field…</option>
          {fields.map((f) => (
            <option key={f.name} value={f.name}>
              {f.label} ({f.type.toLowerCase()}
              {f.multiValued ? ', list' : ''})
            </option>
          ))}
        </select>
      </Field>
      <Field id={`${id}-kind`} label="Kind" error={err('kind')}>
        <select
          id={`${id}-kind`}
          value={draft.kind}
          onChange={(e) => set('kind', e.target.value as Draft['kind'])}
        >
          <option value="COPY">COPY: the attribute&apos;s value as it is</option>
          <option value="TRANSFORM">TRANSFORM: computed by a plugin or an inline expression</option>
        </select>
      </Field>
      {draft.kind === 'TRANSFORM' ? (
        <>
          <Field id={`${id}-plugin`} label="Transform" error={err('plugin')} hint={plugin?.description}>
            <select
              id={`${id}-plugin`}
              required
              value={draft.plugin}
              onChange={(e) => setDraft((d) => ({ ...d, plugin: e.target.value, params: {} }))}
              {...described(`${id}-plugin`, err('plugin'), plugin?.description)}
            >
              <option value="">Choose a transform…</option>
              {plugins.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name === INLINE ? 'Inline JSONata expression' : `${p.name} ${p.version}`}
                </option>
              ))}
            </select>
          </Field>
          {draft.plugin === INLINE ? (
            <Field
              id={`${id}-expression`}
              label="JSONata expression"
              hint="$value is the attribute's first value, $values all of them, $attributes every attribute, $nameId the NameID."
              error={fieldError(refusal, 'expression')}
            >
              <textarea
                id={`${id}-expression`}
                rows={3}
                className="mono"
                value={String(draft.params.expression ?? '')}
                onChange={(e) => set('params', { expression: e.target.value })}
                {...described(`${id}-expression`, fieldError(refusal, 'expression'), 'x')}
              />
            </Field>
          ) : schema ? (
            <fieldset>
              <legend>Parameters of {draft.plugin}</legend>
              <Form
                key={draft.plugin}
                tagName="div"
                schema={schema}
                validator={validator}
                widgets={WIDGETS}
                formData={draft.params}
                onChange={(e) => set('params', (e.formData ?? {}) as Record<string, unknown>)}
                extraErrors={paramErrors(refusal)}
                idPrefix={`${id}-param`}
                noHtml5Validate
                showErrorList={false}
                uiSchema={{ 'ui:submitButtonOptions': { norender: true } }}
              />
            </fieldset>
          ) : null}
        </>
      ) : null}
      <div className="check">
        <input
          id={`${id}-required`}
          type="checkbox"
          checked={draft.required}
          onChange={(e) => {
            const required = e.target.checked;
            // A required mapping refuses when it fails: a stored KEEP or DEFAULT would contradict it.
            setDraft((d) => ({
              ...d,
              required,
              onFailure: required && d.onFailure !== 'REFUSE' ? '' : d.onFailure,
            }));
          }}
          aria-describedby={`${id}-required-hint`}
        />
        <label htmlFor={`${id}-required`}>Required</label>
        <small id={`${id}-required-hint`} className="hint">
          A sign-in that gives no value is refused.
        </small>
      </div>
      <Field
        id={`${id}-default`}
        label="Default value"
        hint={
          field?.multiValued
            ? 'Comma-separated values, written when the attribute is absent.'
            : 'Written when the attribute is absent.'
        }
        error={err('defaultValue')}
      >
        <input
          id={`${id}-default`}
          value={draft.defaultValue}
          onChange={(e) => set('defaultValue', e.target.value)}
          {...described(`${id}-default`, err('defaultValue'), 'x')}
        />
      </Field>
      <Field id={`${id}-multi`} label="Several values" error={err('multiValue')}>
        <select
          id={`${id}-multi`}
          value={draft.multiValue}
          onChange={(e) => set('multiValue', e.target.value as Draft['multiValue'])}
        >
          <option value="REFUSE">Refuse the sign-in</option>
          <option value="FIRST">Take the first</option>
          <option value="JOIN">Join them</option>
        </select>
      </Field>
      {draft.multiValue === 'JOIN' ? (
        <Field id={`${id}-separator`} label="Separator" error={err('separator')}>
          <input
            id={`${id}-separator`}
            value={draft.separator}
            onChange={(e) => set('separator', e.target.value)}
          />
        </Field>
      ) : null}
      <Field id={`${id}-on-failure`} label="When it fails" error={err('onFailure')}>
        <select
          id={`${id}-on-failure`}
          value={draft.onFailure}
          onChange={(e) => set('onFailure', e.target.value as Draft['onFailure'])}
        >
          <option value="">By default (refuse when required, else default value or keep)</option>
          <option value="REFUSE">Refuse the sign-in</option>
          <option value="DEFAULT">Write the default value</option>
          <option value="KEEP">Keep the column as it is</option>
        </select>
      </Field>
      <Field id={`${id}-write`} label="Write" error={err('writePolicy')}>
        <select
          id={`${id}-write`}
          value={draft.writePolicy}
          onChange={(e) => set('writePolicy', e.target.value as Draft['writePolicy'])}
        >
          <option value="ALWAYS">At every sign-in</option>
          <option value="IF_EMPTY">Only while the column is empty</option>
          <option value="ON_CREATE">Only when the contact is created</option>
        </select>
      </Field>
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={addState.error ?? updateState.error} />
      {impact ? <ImpactView impact={impact.impact} title="Impact on recent sign-ins" /> : null}
      <p className="actions">
        <button type="submit" disabled={busy || !draft.column}>
          {mapping ? 'Save mapping' : 'Add mapping'}
        </button>
        {impact?.refused ? (
          <button type="button" className="secondary" onClick={() => save(true)} disabled={busy}>
            Save anyway
          </button>
        ) : null}
        <button type="button" className="secondary" onClick={check} disabled={busy || !draft.column}>
          Check impact
        </button>
        <button type="button" className="secondary" onClick={() => onDone(false)}>
          Cancel
        </button>
      </p>
    </form>
  );
}
