import { useQuery } from 'urql';
import { Link } from 'wouter';
import { certStatus } from '../cert-status.ts';
import { graphql } from '../graphql.ts';
import { ErrorAlert } from '../ui.tsx';
import { CertBadge } from './cert-table.tsx';

const ConnectionsQuery = graphql(`
  query Connections {
    connections {
      id
      name
      entityId
      enabled
      jitEnabled
      certificates {
        notAfter
        fingerprintSha256
      }
      mappings {
        id
      }
    }
  }
`);

/** The certificate that expires first: the one an admin has to act on. */
function soonest<T extends { notAfter: string }>(certs: readonly T[]): T | undefined {
  return [...certs].sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0];
}

export function Connections() {
  const [{ data, fetching, error }] = useQuery({ query: ConnectionsQuery });
  const rows = data?.connections ?? [];
  return (
    <>
      <h1>Connections</h1>
      <p>
        <Link href="/connections/new" className="button">
          New connection
        </Link>
      </p>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {data && rows.length === 0 ? (
        <p>No connection yet: create one from your IdP&apos;s federation metadata.</p>
      ) : null}
      {rows.length ? (
        <table>
          <caption>IdP connections</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Entity id</th>
              <th scope="col">Status</th>
              <th scope="col">Mappings</th>
              <th scope="col">Certificates</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => {
              const first = soonest(c.certificates);
              const attention = c.certificates.filter((x) => certStatus(x.notAfter).kind !== 'ok').length;
              return (
                <tr key={c.id}>
                  <td>
                    <Link href={`/connections/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </td>
                  <td className="mono">{c.entityId}</td>
                  <td>
                    {c.enabled ? 'Enabled' : 'Disabled'}
                    {c.jitEnabled ? ', JIT on' : ', JIT off'}
                  </td>
                  <td>{c.mappings.length}</td>
                  <td>
                    {c.certificates.length} {first ? <CertBadge notAfter={first.notAfter} /> : null}
                    {attention > 1 ? ` (${attention} need attention)` : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
    </>
  );
}
