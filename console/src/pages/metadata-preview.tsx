import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import type { MetadataPreview } from '../metadata.ts';
import { CertTable } from './cert-table.tsx';

const ReadIdpMetadata = graphql(`
  query ReadIdpMetadata($xml: String!) {
    readIdpMetadata(metadataXml: $xml) {
      __typename
      ... on IdpMetadataPreview {
        entityId
        ssoRedirectUrl
        ssoPostUrl
        wantAuthnRequestsSigned
        certificates {
          subject
          notBefore
          notAfter
          fingerprintSha256
        }
      }
      ... on InputError {
        code
        message
      }
    }
  }
`);

/** The value once it has stopped changing for `ms`: one server read per paste, not per keystroke. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

/**
 * What the pasted metadata says, before anything is saved: the browser's quick reading (entity id,
 * SSO URLs) at once, then the server's — the same parser createConnection uses — with every signing
 * certificate's subject, validity and expiry badge, or the refusal the server would give.
 */
export function MetadataSummary({ preview, xml }: { preview: MetadataPreview; xml: string }) {
  const settled = useSettled(xml, 300);
  const [{ data, fetching }] = useQuery({
    query: ReadIdpMetadata,
    variables: { xml: settled },
    pause: !settled.trim(),
    requestPolicy: 'network-only',
  });
  const read = settled === xml ? data?.readIdpMetadata : undefined;
  return (
    <section aria-labelledby="md-read" className="card">
      <h2 id="md-read">Read from the metadata</h2>
      <dl>
        <dt>Entity id</dt>
        <dd className="mono" data-testid="md-entity-id">
          {preview.entityId || '(none)'}
        </dd>
        <dt>Single sign-on URLs</dt>
        <dd>
          {preview.ssoServices.length ? (
            <ul>
              {preview.ssoServices.map((s) => (
                <li key={`${s.binding} ${s.location}`}>
                  {s.binding}: <span className="mono">{s.location}</span>
                </li>
              ))}
            </ul>
          ) : (
            'none'
          )}
        </dd>
      </dl>
      {read?.__typename === 'IdpMetadataPreview' ? (
        <>
          <CertTable certs={read.certificates} caption="Signing certificates that will be pinned" />
          <p className="hint">
            {read.wantAuthnRequestsSigned
              ? 'The IdP asks for signed sign-in requests: they will be signed.'
              : 'The IdP does not ask for signed sign-in requests.'}
          </p>
        </>
      ) : read?.__typename === 'InputError' ? (
        <p role="alert" className="alert" data-testid="md-refusal">
          The server would refuse this metadata: {read.message} ({read.code})
        </p>
      ) : (
        <p className="hint" aria-live="polite">
          {fetching || settled !== xml ? 'Checking the certificates…' : ''}
        </p>
      )}
    </section>
  );
}
