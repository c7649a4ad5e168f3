import { type FormEvent, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql, type ResultOf, readFragment } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';

const ConnectionName = graphql(`
  query PreviewConnection($id: ID!) {
    node(id: $id) {
      __typename
      ... on IdpConnection {
        id
        name
        sampleSize
      }
    }
  }
`);

const RowFields = graphql(`
  fragment PreviewRowFields on MappingPreviewRow {
    column
    attributeName
    plugin
    before
    after
    willWrite
    fallback
    error {
      code
      message
    }
  }
`);

const Preview = graphql(
  `
  query PreviewMappings($input: PreviewMappingsInput!) {
    previewMappings(input: $input) {
      __typename
      ... on MappingPreview {
        nameId
        refused
        userExists
        rows {
          ...PreviewRowFields
        }
        samples {
          nameId
          refused
          userExists
          rows {
            ...PreviewRowFields
          }
        }
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`,
  [RowFields],
);

type Row = ResultOf<typeof RowFields>;
interface Sample {
  nameId: string;
  refused: boolean;
  userExists: boolean;
  rows: Row[];
}

/** `name = value` lines; a name given twice has two values. */
export function parseAttributes(text: string): { name: string; values: string[] }[] {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at < 0) continue;
    const name = line.slice(0, at).trim();
    if (!name) continue;
    out.set(name, [...(out.get(name) ?? []), line.slice(at + 1).trim()]);
  }
  return [...out].map(([name, values]) => ({ name, values }));
}

const show = (v: unknown): string =>
  v === null || v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : String(v);

function Rows({ sample, caption }: { sample: Sample; caption: string }) {
  return (
    <section aria-label={caption} className="card">
      <h2>{caption}</h2>
      {sample.refused ? (
        <p role="alert" className="alert">
          This sign-in would be refused.
        </p>
      ) : (
        <p className="notice">
          This sign-in would be accepted{sample.userExists ? ' (existing user)' : ' (new user)'}.
        </p>
      )}
      <table>
        <caption>Per field, for {sample.nameId}</caption>
        <thead>
          <tr>
            <th scope="col">Contact field</th>
            <th scope="col">From</th>
            <th scope="col">Before</th>
            <th scope="col">After</th>
            <th scope="col">Written</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {sample.rows.map((r) => (
            <tr key={r.column}>
              <td>{r.column}</td>
              <td className="mono">
                {r.attributeName ?? '—'}
                {r.plugin ? ` (${r.plugin === 'expression' ? 'inline JSONata' : r.plugin})` : ''}
              </td>
              <td>{show(r.before)}</td>
              <td>{show(r.after)}</td>
              <td>{r.willWrite ? 'Yes' : 'No'}</td>
              <td>
                {r.error ? (
                  <>
                    <strong>{r.error.code}</strong>: {r.error.message}
                    {r.fallback ? ` (falls back: ${r.fallback})` : ''}
                  </>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function PreviewPage({ id }: { id: string }) {
  const [{ data, error }] = useQuery({ query: ConnectionName, variables: { id } });
  const client = useClient();
  const [source, setSource] = useState<'sample' | 'recent'>('sample');
  const [nameId, setNameId] = useState('');
  const [attributes, setAttributes] = useState('');
  const [recent, setRecent] = useState('10');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [result, setResult] = useState<Sample[] | null>(null);
  const [failure, setFailure] = useState<typeof error>(undefined);
  const [busy, setBusy] = useState(false);
  const node = data?.node;
  const name = node?.__typename === 'IdpConnection' ? node.name : '';

  async function run(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    setResult(null);
    setBusy(true);
    const input =
      source === 'recent'
        ? { connectionId: id, recentSignIns: Number(recent) }
        : { connectionId: id, nameId: nameId.trim() || null, attributes: parseAttributes(attributes) };
    const r = await client.query(Preview, { input }, { requestPolicy: 'network-only' }).toPromise();
    setBusy(false);
    setFailure(r.error);
    const out = r.data?.previewMappings;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'MappingPreview') {
      setResult(
        source === 'recent'
          ? out.samples.map((s) => ({ ...s, rows: [...readFragment(RowFields, s.rows)] }))
          : [
              {
                nameId: out.nameId,
                refused: out.refused,
                userExists: out.userExists,
                rows: [...readFragment(RowFields, out.rows)],
              },
            ],
      );
    }
  }

  return (
    <>
      <p>
        <Link href={`/connections/${encodeURIComponent(id)}`}>← {name || 'Connection'}</Link>
      </p>
      <h1>Preview mappings{name ? ` of ${name}` : ''}</h1>
      <p>What a sign-in would write to the contact with the stored mappings; nothing is written.</p>
      <ErrorAlert error={error ?? failure} />
      <form onSubmit={run}>
        <fieldset>
          <legend>Try them on</legend>
          <div className="check">
            <input
              id="src-sample"
              type="radio"
              name="source"
              checked={source === 'sample'}
              onChange={() => setSource('sample')}
            />
            <label htmlFor="src-sample">Sample attributes</label>
          </div>
          <div className="check">
            <input
              id="src-recent"
              type="radio"
              name="source"
              checked={source === 'recent'}
              onChange={() => setSource('recent')}
            />
            <label htmlFor="src-recent">Recent sign-ins (their kept attributes)</label>
          </div>
        </fieldset>
        {source === 'sample' ? (
          <>
            <Field
              id="pv-nameid"
              label="NameID"
              hint="An existing user's NameID shows their current values as “before”."
              error={fieldError(refusal, 'nameId')}
            >
              <input
                id="pv-nameid"
                value={nameId}
                onChange={(e) => setNameId(e.target.value)}
                {...described('pv-nameid', fieldError(refusal, 'nameId'), 'x')}
              />
            </Field>
            <Field
              id="pv-attributes"
              label="Attributes"
              hint="One per line as name = value; repeat a name for several values."
              error={fieldError(refusal, 'attributes')}
            >
              <textarea
                id="pv-attributes"
                rows={6}
                className="mono"
                value={attributes}
                onChange={(e) => setAttributes(e.target.value)}
                {...described('pv-attributes', fieldError(refusal, 'attributes'), 'x')}
              />
            </Field>
          </>
        ) : (
          <Field id="pv-recent" label="How many recent sign-ins" error={fieldError(refusal, 'recentSignIns')}>
            <input
              id="pv-recent"
              type="number"
              min={1}
              max={200}
              value={recent}
              onChange={(e) => setRecent(e.target.value)}
              {...described('pv-recent', fieldError(refusal, 'recentSignIns'))}
            />
          </Field>
        )}
        <RefusalAlert refusal={refusal} />
        <button type="submit" disabled={busy}>
          {busy ? 'Running…' : 'Run preview'}
        </button>
      </form>
      {result?.length === 0 ? <p>No recent sign-in is kept for this connection.</p> : null}
      {result?.map((s) => (
        <Rows key={s.nameId} sample={s} caption={`Preview for ${s.nameId}`} />
      ))}
    </>
  );
}
