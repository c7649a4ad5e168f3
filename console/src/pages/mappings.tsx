import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql, readFragment } from '../graphql.ts';
import { ErrorAlert, type Refusal, RefusalAlert } from '../ui.tsx';
import { type Impact, ImpactFields, ImpactView } from './impact.tsx';
import { MappingEditor, type StoredMapping } from './mapping-editor.tsx';

const MappingsQuery = graphql(`
  query Mappings($id: ID!) {
    node(id: $id) {
      __typename
      ... on IdpConnection {
        id
        name
        seenAttributes {
          name
          signIns
        }
        mappings {
          id
          position
          attributeName
          column
          kind
          plugin
          params
          required
          defaultValue
          multiValue
          separator
          onFailure
          writePolicy
          field {
            label
          }
        }
      }
    }
    contactFields {
      name
      label
      type
      multiValued
      description
    }
    transformPlugins {
      name
      version
      description
      paramsSchema
    }
  }
`);

const RemoveMapping = graphql(
  `
  mutation RemoveMapping($id: ID!, $force: Boolean) {
    removeAttributeMapping(id: $id, force: $force) {
      __typename
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

const ReorderMappings = graphql(
  `
  mutation ReorderMappings($input: ReorderAttributeMappingsInput!) {
    reorderAttributeMappings(input: $input) {
      __typename
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

type Pending = { kind: 'remove'; id: string } | { kind: 'reorder'; ids: string[] };

export function Mappings({ id }: { id: string }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: MappingsQuery, variables: { id } });
  const [editing, setEditing] = useState<string | 'new' | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [refused, setRefused] = useState<{ impact: Impact; pending: Pending } | null>(null);
  const [removeState, remove] = useMutation(RemoveMapping);
  const [reorderState, reorder] = useMutation(ReorderMappings);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const node = data?.node;
  if (error) return <ErrorAlert error={error} />;
  if (fetching && !data) return <p>Loading…</p>;
  if (node?.__typename !== 'IdpConnection') return <h1>No such connection</h1>;
  const mappings = node.mappings;
  const fields = data?.contactFields ?? [];
  const plugins = data?.transformPlugins ?? [];
  // What the IdP actually sent in recent sign-ins (most carried first), then what is mapped already.
  const seen = node.seenAttributes;
  const known = [
    ...new Set([
      ...seen.map((a) => a.name),
      ...mappings.map((m) => m.attributeName).filter((a): a is string => !!a),
    ]),
  ];
  const seenCount = new Map(seen.map((a) => [a.name, a.signIns]));

  async function run(pending: Pending, force: boolean) {
    setRefusal(null);
    setRefused(null);
    const out =
      pending.kind === 'remove'
        ? (await remove({ id: pending.id, force })).data?.removeAttributeMapping
        : (await reorder({ input: { connectionId: id, mappingIds: pending.ids, force } })).data
            ?.reorderAttributeMappings;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'MappingChangeRefused') {
      setRefusal({ code: out.code, message: out.message });
      setRefused({ impact: readFragment(ImpactFields, out.impact), pending });
    } else {
      setConfirming(null);
      reload();
    }
  }

  function move(index: number, by: -1 | 1) {
    const ids = mappings.map((m) => m.id);
    const [moved] = ids.splice(index, 1);
    if (!moved) return;
    ids.splice(index + by, 0, moved);
    void run({ kind: 'reorder', ids }, false);
  }

  const busy = removeState.fetching || reorderState.fetching;
  return (
    <>
      <p>
        <Link href={`/connections/${encodeURIComponent(id)}`}>← {node.name}</Link>
      </p>
      <h1>Mappings of {node.name}</h1>
      <p>SAML attributes to contact fields, applied in this order.</p>
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={removeState.error ?? reorderState.error} />
      {refused ? (
        <>
          <ImpactView impact={refused.impact} title="Impact on recent sign-ins" />
          <button type="button" onClick={() => run(refused.pending, true)} disabled={busy}>
            Do it anyway
          </button>
        </>
      ) : null}
      {mappings.length ? (
        <table>
          <caption>Attribute mappings</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">SAML attribute</th>
              <th scope="col">Contact field</th>
              <th scope="col">Kind</th>
              <th scope="col">Required</th>
              <th scope="col">Write</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {mappings.map((m, i) => {
              const what = `${m.attributeName ?? m.plugin ?? ''} → ${m.field.label}`;
              return (
                <tr key={m.id}>
                  <td>{i + 1}</td>
                  <td className="mono">{m.attributeName ?? '—'}</td>
                  <td>{m.field.label}</td>
                  <td>
                    {m.kind}
                    {m.plugin ? ` (${m.plugin === 'expression' ? 'inline JSONata' : m.plugin})` : ''}
                  </td>
                  <td>{m.required ? 'Yes' : 'No'}</td>
                  <td>{m.writePolicy}</td>
                  <td className="actions">
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Move ${what} up`}
                      disabled={busy || i === 0}
                      onClick={() => move(i, -1)}
                    >
                      ↑
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Move ${what} down`}
                      disabled={busy || i === mappings.length - 1}
                      onClick={() => move(i, 1)}
                    >
                      ↓
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Edit ${what}`}
                      onClick={() => setEditing(m.id)}
                    >
                      Edit
                    </button>
                    {confirming === m.id ? (
                      <button
                        type="button"
                        onClick={() => run({ kind: 'remove', id: m.id }, false)}
                        disabled={busy}
                      >
                        Confirm removal
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="secondary"
                        aria-label={`Remove ${what}`}
                        onClick={() => setConfirming(m.id)}
                      >
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p>No mapping yet: a new user gets a contact with no field filled.</p>
      )}
      {editing ? (
        <MappingEditor
          key={editing}
          connectionId={id}
          mapping={
            editing === 'new' ? null : ((mappings.find((m) => m.id === editing) as StoredMapping) ?? null)
          }
          fields={fields}
          plugins={plugins}
          knownAttributes={known}
          seenCount={seenCount}
          onDone={(saved) => {
            setEditing(null);
            if (saved) reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setEditing('new')}>
          New mapping
        </button>
      )}
    </>
  );
}
