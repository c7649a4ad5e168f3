import { type ChangeEvent, type FormEvent, useMemo, useState } from 'react';
import { useMutation } from 'urql';
import { Link, useLocation } from 'wouter';
import { graphql } from '../graphql.ts';
import { readMetadata } from '../metadata.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';
import { ConnectionOptions, DEFAULT_OPTIONS, optionsInput } from './connection-options.tsx';
import { MetadataSummary } from './metadata-preview.tsx';

const CreateConnection = graphql(`
  mutation CreateConnection($input: CreateConnectionInput!) {
    createConnection(input: $input) {
      __typename
      ... on IdpConnection {
        id
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

export function ConnectionNew() {
  const [, navigate] = useLocation();
  const [xml, setXml] = useState('');
  const [options, setOptions] = useState(DEFAULT_OPTIONS);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [{ fetching, error }, create] = useMutation(CreateConnection);
  const preview = useMemo(() => (xml.trim() ? readMetadata(xml) : null), [xml]);

  async function upload(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    if (file) setXml(await file.text());
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    const result = await create({ input: { metadataXml: xml, ...optionsInput(options) } });
    const out = result.data?.createConnection;
    if (out?.__typename === 'IdpConnection') navigate(`/connections/${encodeURIComponent(out.id)}`);
    else if (out?.__typename === 'InputError') setRefusal(out);
  }

  const mdError =
    fieldError(refusal, 'metadataXml') ?? (preview && 'problem' in preview ? preview.problem : undefined);
  return (
    <>
      <p>
        <Link href="/connections">← Connections</Link>
      </p>
      <h1>New connection</h1>
      <form onSubmit={submit}>
        <fieldset>
          <legend>Federation metadata</legend>
          <Field id="md-file" label="Upload the IdP's federation metadata (XML)">
            <input id="md-file" type="file" accept=".xml,application/xml,text/xml" onChange={upload} />
          </Field>
          <Field
            id="md-xml"
            label="…or paste it"
            error={mdError}
            hint="Entra ID: Enterprise applications → your app → Single sign-on → Federation Metadata XML."
          >
            <textarea
              id="md-xml"
              rows={8}
              className="mono"
              value={xml}
              onChange={(e) => setXml(e.target.value)}
              {...described('md-xml', mdError, 'x')}
            />
          </Field>
        </fieldset>
        {preview && !('problem' in preview) ? <MetadataSummary preview={preview} xml={xml} /> : null}
        <ConnectionOptions value={options} onChange={setOptions} refusal={refusal} creating />
        <RefusalAlert refusal={refusal} />
        <ErrorAlert error={error} />
        <button type="submit" disabled={fetching || !xml.trim() || !options.name.trim()}>
          {fetching ? 'Saving…' : 'Create connection'}
        </button>
      </form>
    </>
  );
}
