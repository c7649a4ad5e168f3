import { certBadgeText, certStatus } from '../cert-status.ts';
import { formatDate } from '../ui.tsx';

export interface CertRow {
  subject: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}

export function CertBadge({ notAfter }: { notAfter: string }) {
  const status = certStatus(notAfter);
  const text = certBadgeText(status);
  if (!text) return <span className="badge ok">Valid</span>;
  return <span className={`badge ${status.kind === 'expired' ? 'danger' : 'warn'}`}>{text}</span>;
}

export function CertTable({ certs, caption }: { certs: readonly CertRow[]; caption: string }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Subject</th>
          <th scope="col">Valid from</th>
          <th scope="col">Valid until</th>
          <th scope="col">Status</th>
          <th scope="col">SHA-256 fingerprint</th>
        </tr>
      </thead>
      <tbody>
        {certs.map((c) => (
          <tr key={c.fingerprintSha256}>
            <td>{c.subject}</td>
            <td>{formatDate(c.notBefore)}</td>
            <td>{formatDate(c.notAfter)}</td>
            <td>
              <CertBadge notAfter={c.notAfter} />
            </td>
            <td className="mono">{c.fingerprintSha256}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
