import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';

const FieldsQuery = graphql(`
  query ContactFields {
    contactFields {
      name
      label
      type
      description
      custom
      multiValued
      enumValues
    }
  }
`);

const CreateField = graphql(`
  mutation CreateContactField($input: CreateContactFieldInput!) {
    createContactField(input: $input) {
      __typename
      ... on ContactField {
        name
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const UpdateField = graphql(`
  mutation UpdateContactField($input: UpdateContactFieldInput!) {
    updateContactField(input: $input) {
      __typename
      ... on ContactField {
        name
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const RemoveField = graphql(`
  mutation RemoveContactField($name: String!) {
    removeContactField(name: $name) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const TYPES = ['STRING', 'NUMBER', 'BOOLEAN', 'DATE', 'ENUM', 'STRING_LIST'] as const;
type CustomType = (typeof TYPES)[number];

const lines = (s: string) =>
  s
    .split('\n')
    .map((v) => v.trim())
    .filter(Boolean);

function plain(r: Refusal): string {
  if (r.code === 'CONTACT_FIELD_IN_USE')
    return `${r.message}. Remove or change the mappings that write it first.`;
  return r.message;
}

interface FieldRow {
  name: string;
  label: string;
  type: string;
  description: string;
  custom: boolean;
  multiValued: boolean;
  enumValues: readonly string[] | null;
}

function CustomRow({ field, onChanged }: { field: FieldRow; onChanged(): void }) {
  const [label, setLabel] = useState(field.label);
  const [added, setAdded] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [updateState, update] = useMutation(UpdateField);
  const [removeState, remove] = useMutation(RemoveField);
  return (
    <tr>
      <td className="mono">{field.name}</td>
      <td>
        <input
          aria-label={`Label of ${field.name}`}
          value={label}
          onChange={(e) => setLabel(e.target.value)}
        />
      </td>
      <td>
        {field.type}
        {field.enumValues?.length ? `: ${field.enumValues.join(', ')}` : ''}
        {field.type === 'ENUM' ? (
          <input
            aria-label={`Values to add to ${field.name}`}
            placeholder="new value, another"
            value={added}
            onChange={(e) => setAdded(e.target.value)}
          />
        ) : null}
      </td>
      <td>
        <button
          type="button"
          disabled={updateState.fetching}
          onClick={async () => {
            setRefusal(null);
            const more = added
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean);
            const out = (
              await update({
                input: {
                  name: field.name,
                  label,
                  ...(more.length ? { enumValues: [...(field.enumValues ?? []), ...more] } : {}),
                },
              })
            ).data?.updateContactField;
            if (out?.__typename === 'InputError') setRefusal(out);
            else {
              setAdded('');
              onChanged();
            }
          }}
        >
          Save {field.name}
        </button>{' '}
        <button
          type="button"
          disabled={removeState.fetching}
          onClick={async () => {
            setRefusal(null);
            if (
              !window.confirm(`Remove the field “${field.name}”? Its values are dropped from every contact.`)
            )
              return;
            const out = (await remove({ name: field.name })).data?.removeContactField;
            if (out?.__typename === 'InputError') setRefusal(out);
            else onChanged();
          }}
        >
          Remove {field.name}
        </button>
        {refusal ? (
          <p role="alert" className="field-error">
            {plain(refusal)} ({refusal.code})
          </p>
        ) : null}
      </td>
    </tr>
  );
}

/** The contact fields a mapping can write: the built-in columns, and the fields admins add. */
export function ContactFields() {
  const [{ data, error, fetching }, refetch] = useQuery({ query: FieldsQuery });
  const [name, setName] = useState('');
  const [label, setLabel] = useState('');
  const [type, setType] = useState<CustomType>('STRING');
  const [values, setValues] = useState('');
  const [description, setDescription] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [state, create] = useMutation(CreateField);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    const out = (
      await create({
        input: {
          name: name.trim(),
          label: label.trim(),
          type,
          ...(type === 'ENUM' ? { enumValues: lines(values) } : {}),
          ...(description.trim() ? { description: description.trim() } : {}),
        },
      })
    ).data?.createContactField;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out) {
      setName('');
      setLabel('');
      setValues('');
      setDescription('');
      reload();
    }
  }
  const err = (f: string) => fieldError(refusal, f);
  const fields = data?.contactFields ?? [];
  return (
    <>
      <h1>Contact fields</h1>
      <p>
        What a mapping can write into a contact. The built-in columns are fixed; fields you add are typed (the
        value an IdP sends is checked and converted at sign-in) and read back typed from{' '}
        <span className="mono">Contact.customFields</span>.
      </p>
      <form onSubmit={submit} aria-label="New contact field" className="card">
        <Field
          id="cf-name"
          label="Name"
          error={err('name')}
          hint="Letters, digits and underscores, e.g. cost_center."
        >
          <input
            id="cf-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...described('cf-name', err('name'), 'x')}
          />
        </Field>
        <Field id="cf-label" label="Label" error={err('label')}>
          <input
            id="cf-label"
            value={label}
            onChange={(e) => setLabel(e.target.value)}
            {...described('cf-label', err('label'))}
          />
        </Field>
        <Field id="cf-type" label="Type" error={err('type')}>
          <select id="cf-type" value={type} onChange={(e) => setType(e.target.value as CustomType)}>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        {type === 'ENUM' ? (
          <Field id="cf-values" label="Allowed values" hint="One per line." error={err('enumValues')}>
            <textarea
              id="cf-values"
              rows={3}
              value={values}
              onChange={(e) => setValues(e.target.value)}
              {...described('cf-values', err('enumValues'), 'x')}
            />
          </Field>
        ) : null}
        <Field id="cf-description" label="Description">
          <input id="cf-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <RefusalAlert
          refusal={refusal && !['name', 'label', 'type', 'enumValues'].some((f) => err(f)) ? refusal : null}
        />
        <ErrorAlert error={state.error} />
        <button type="submit" disabled={state.fetching || !name.trim() || !label.trim()}>
          Add field
        </button>
      </form>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      <table>
        <caption>Fields added by admins</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Label</th>
            <th scope="col">Type</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {fields
            .filter((f) => f.custom)
            .map((f) => (
              <CustomRow
                key={`${f.name} ${f.label} ${(f.enumValues ?? []).join(',')}`}
                field={f}
                onChanged={reload}
              />
            ))}
        </tbody>
      </table>
      <table>
        <caption>Built-in fields</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Label</th>
            <th scope="col">Type</th>
          </tr>
        </thead>
        <tbody>
          {fields
            .filter((f) => !f.custom)
            .map((f) => (
              <tr key={f.name}>
                <td className="mono">{f.name}</td>
                <td>{f.label}</td>
                <td>
                  {f.type}
                  {f.multiValued ? ', list' : ''}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </>
  );
}
