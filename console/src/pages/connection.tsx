import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql, type ResultOf, readFragment } from '../graphql.ts';
import { readMetadata } from '../metadata.ts';
import { described, ErrorAlert, Field, fieldError, formatDate, type Refusal, RefusalAlert } from '../ui.tsx';
import { CertTable } from './cert-table.tsx';
import { InactivityPreview, ScimTokens } from './connection-lifecycle.tsx';
import { ConnectionOptions, type ConnectionOptionsValue, optionsInput } from './connection-options.tsx';
import { MetadataSummary } from './metadata-preview.tsx';

const ConnectionFields = graphql(`
  fragment ConnectionFields on IdpConnection {
    id
    name
    entityId
    enabled
    jitEnabled
    refreshOnLogin
    idpInitiatedAllowed
    signAuthnRequests
    wantResponseSigned
    nameIdFormat
    adminGroups
    groupsAttribute
    clockSkewSeconds
    sampleSize
    sampleRetentionDays
    allowSha1
    identityKey
    identityKeyAttribute
    linkPolicy
    inactivityDays
    inactivityAction
    scimEnabled
    scimDeprovision
    loginUrl
    ssoRedirectUrl
    ssoPostUrl
    createdAt
    updatedAt
    certificates {
      subject
      notBefore
      notAfter
      fingerprintSha256
    }
  }
`);

const ConnectionQuery = graphql(
  `
  query Connection($id: ID!) {
    node(id: $id) {
      __typename
      ...ConnectionFields
    }
  }
`,
  [ConnectionFields],
);

const UpdateConnection = graphql(
  `
  mutation UpdateConnection($input: UpdateConnectionInput!) {
    updateConnection(input: $input) {
      __typename
      ...ConnectionFields
      ... on InputError {
        code
        message
        path
      }
    }
  }
`,
  [ConnectionFields],
);

type Conn = ResultOf<typeof ConnectionFields>;

function toOptions(c: Conn): ConnectionOptionsValue {
  return {
    name: c.name,
    jitEnabled: c.jitEnabled,
    refreshOnLogin: c.refreshOnLogin,
    idpInitiatedAllowed: c.idpInitiatedAllowed,
    signAuthnRequests: c.signAuthnRequests,
    wantResponseSigned: c.wantResponseSigned,
    nameIdFormat: c.nameIdFormat ?? '',
    adminGroups: c.adminGroups.join('\n'),
    groupsAttribute: c.groupsAttribute,
    clockSkewSeconds: String(c.clockSkewSeconds),
    sampleSize: String(c.sampleSize),
    sampleRetentionDays: String(c.sampleRetentionDays),
    allowSha1: c.allowSha1,
    identityKey: c.identityKey,
    identityKeyAttribute: c.identityKeyAttribute ?? '',
    linkPolicy: c.linkPolicy,
    inactivityDays: c.inactivityDays === null ? '' : String(c.inactivityDays),
    inactivityAction: c.inactivityAction,
    scimEnabled: c.scimEnabled,
    scimDeprovision: c.scimDeprovision,
  };
}

function SpMetadata() {
  const url = `${window.location.origin}/saml/metadata`;
  const [copied, setCopied] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('Copied.');
    } catch {
      setCopied('Copying is not allowed here: select the URL and copy it.');
    }
  }
  return (
    <section aria-labelledby="sp-md" className="card">
      <h2 id="sp-md">Our SP metadata</h2>
      <p>Give this to the IdP (Entra ID: “Upload metadata file”, or paste the URL).</p>
      <Field id="sp-md-url" label="SP metadata URL">
        <input id="sp-md-url" readOnly value={url} className="mono" />
      </Field>
      <button type="button" onClick={copy}>
        Copy URL
      </button>{' '}
      <a href="/saml/metadata" download="jitprov-sp-metadata.xml" className="button">
        Download SP metadata
      </a>
      <span aria-live="polite"> {copied}</span>
    </section>
  );
}

function Rollover({ conn, onSaved }: { conn: Conn; onSaved(c: Conn): void }) {
  const [xml, setXml] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [{ fetching, error }, update] = useMutation(UpdateConnection);
  const preview = useMemo(() => (xml.trim() ? readMetadata(xml) : null), [xml]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    const r = await update({ input: { id: conn.id, metadataXml: xml } });
    const out = r.data?.updateConnection;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'IdpConnection') {
      setXml('');
      onSaved(readFragment(ConnectionFields, out));
    }
  }
  const mdError =
    fieldError(refusal, 'metadataXml') ?? (preview && 'problem' in preview ? preview.problem : undefined);
  return (
    <form onSubmit={submit} className="card" aria-labelledby="rollover">
      <h2 id="rollover">Certificate rollover</h2>
      <p>
        Paste the IdP&apos;s current metadata, listing the new certificate beside the old one: its
        certificates and SSO URLs are pinned again (same entity id).
      </p>
      <Field id="rollover-xml" label="Current federation metadata" error={mdError}>
        <textarea
          id="rollover-xml"
          rows={5}
          className="mono"
          value={xml}
          onChange={(e) => setXml(e.target.value)}
          {...described('rollover-xml', mdError)}
        />
      </Field>
      {preview && !('problem' in preview) ? <MetadataSummary preview={preview} xml={xml} /> : null}
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={error} />
      <button type="submit" disabled={fetching || !xml.trim()}>
        Re-pin certificates
      </button>
    </form>
  );
}

function Loaded({ initial }: { initial: Conn }) {
  const [conn, setConn] = useState(initial);
  const [options, setOptions] = useState(() => toOptions(initial));
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saved, setSaved] = useState(false);
  const [{ fetching, error }, update] = useMutation(UpdateConnection);
  useEffect(() => {
    setConn(initial);
  }, [initial]);

  async function save(input: Record<string, unknown>) {
    setRefusal(null);
    setSaved(false);
    const r = await update({ input: { id: conn.id, ...input } });
    const out = r.data?.updateConnection;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'IdpConnection') {
      const c = readFragment(ConnectionFields, out);
      setConn(c);
      setOptions(toOptions(c));
      setSaved(true);
    }
  }
  return (
    <>
      <p>
        <Link href="/connections">← Connections</Link>
      </p>
      <h1>{conn.name}</h1>
      <dl className="facts">
        <dt>Entity id</dt>
        <dd className="mono">{conn.entityId}</dd>
        <dt>SSO (redirect)</dt>
        <dd className="mono">{conn.ssoRedirectUrl ?? '—'}</dd>
        <dt>SSO (POST)</dt>
        <dd className="mono">{conn.ssoPostUrl ?? '—'}</dd>
        <dt>Status</dt>
        <dd>{conn.enabled ? 'Enabled' : 'Disabled'}</dd>
        <dt>Updated</dt>
        <dd>{formatDate(conn.updatedAt)}</dd>
      </dl>
      <p className="actions">
        <Link href={`/connections/${encodeURIComponent(conn.id)}/mappings`} className="button">
          Mappings
        </Link>{' '}
        <Link href={`/connections/${encodeURIComponent(conn.id)}/preview`} className="button">
          Preview
        </Link>{' '}
        <Link href={`/connections/${encodeURIComponent(conn.id)}/rules`} className="button">
          License and role rules
        </Link>{' '}
        <a href={conn.loginUrl} target="_blank" rel="noopener noreferrer" className="button">
          Test sign-in (new tab)
        </a>{' '}
        <button type="button" onClick={() => save({ enabled: !conn.enabled })} disabled={fetching}>
          {conn.enabled ? 'Disable connection' : 'Enable connection'}
        </button>
      </p>
      <CertTable certs={conn.certificates} caption="Signing certificates" />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void save(optionsInput(options));
        }}
      >
        <ConnectionOptions value={options} onChange={setOptions} refusal={refusal} creating={false} />
        <RefusalAlert refusal={refusal} />
        <ErrorAlert error={error} />
        <button type="submit" disabled={fetching}>
          Save options
        </button>
        <span aria-live="polite">{saved ? ' Saved.' : ''}</span>
      </form>
      <InactivityPreview connectionId={conn.id} days={conn.inactivityDays} />
      <ScimTokens
        connectionId={conn.id}
        onEnabled={() => {
          setConn((c) => ({ ...c, scimEnabled: true }));
          setOptions((o) => ({ ...o, scimEnabled: true }));
        }}
      />
      <Rollover conn={conn} onSaved={setConn} />
      <SpMetadata />
    </>
  );
}

export function ConnectionPage({ id }: { id: string }) {
  const [{ data, error, fetching }] = useQuery({ query: ConnectionQuery, variables: { id } });
  const node = data?.node;
  if (error) return <ErrorAlert error={error} />;
  if (fetching && !data) return <p>Loading…</p>;
  if (node?.__typename !== 'IdpConnection') {
    return (
      <>
        <h1>No such connection</h1>
        <p>
          <Link href="/connections">Back to connections</Link>
        </p>
      </>
    );
  }
  return <Loaded initial={readFragment(ConnectionFields, node)} />;
}
