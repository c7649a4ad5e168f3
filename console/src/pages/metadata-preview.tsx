import { useEffect, useState } from 'react';
import { fingerprint, type MetadataPreview } from '../metadata.ts';

/** What the pasted metadata says: entity id, SSO URLs, signing certificates (by fingerprint). */
export function MetadataSummary({ preview }: { preview: MetadataPreview }) {
  const [prints, setPrints] = useState<(string | null)[]>([]);
  useEffect(() => {
    let live = true;
    void Promise.all(preview.certificates.map(fingerprint)).then((p) => {
      if (live) setPrints(p);
    });
    return () => {
      live = false;
    };
  }, [preview]);
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
        <dt>Signing certificates</dt>
        <dd>
          {preview.certificates.length ? (
            <ul>
              {preview.certificates.map((c, i) => (
                <li key={c} className="mono">
                  SHA-256 {prints[i] ?? '…'}
                </li>
              ))}
            </ul>
          ) : (
            'none: the server will refuse this metadata'
          )}
        </dd>
      </dl>
      <p className="hint">Subjects and expiry dates are checked by the server and shown once saved.</p>
    </section>
  );
}
