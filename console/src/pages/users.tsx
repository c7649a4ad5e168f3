import { useEffect, useState } from 'react';
import { useQuery } from 'urql';
import { Link, useSearchParams } from 'wouter';
import { graphql } from '../graphql.ts';
import { ErrorAlert, formatDate } from '../ui.tsx';
import { Pager, useCursors } from './pager.tsx';

const PAGE = 20;

const UsersQuery = graphql(`
  query Users($first: Int, $after: String, $filter: UserFilter) {
    users(first: $first, after: $after, filter: $filter, orderBy: { field: USERNAME }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          username
          status
          lastLoginAt
          contact {
            fullName
            email
          }
          licenses {
            id
          }
        }
      }
    }
  }
`);

const ContactsQuery = graphql(`
  query Contacts($first: Int, $after: String, $filter: ContactFilter) {
    contacts(first: $first, after: $after, filter: $filter, orderBy: { field: NAME }) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          fullName
          givenName
          surname
          email
          department
          company
          user {
            id
            username
          }
        }
      }
    }
  }
`);

/** A search box whose text is in the address (?q=), so a search is a deep link that survives a reload. */
function useQueryParam(): [string, (q: string) => void] {
  const [params, setParams] = useSearchParams();
  return [params.get('q') ?? '', (q) => setParams(q ? { q } : {}, { replace: true })];
}

function SearchBox({ label, value, onChange }: { label: string; value: string; onChange(v: string): void }) {
  const [text, setText] = useState(value);
  // Searches once typing pauses, not at every key.
  useEffect(() => {
    const t = setTimeout(() => {
      if (text !== value) onChange(text);
    }, 250);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <search className="field">
      <label htmlFor="search">{label}</label>
      <input id="search" type="search" value={text} onChange={(e) => setText(e.target.value)} />
    </search>
  );
}

export function Users() {
  const [q, setQ] = useQueryParam();
  const [status, setStatus] = useState<'' | 'ACTIVE' | 'BLOCKED'>('');
  const cursors = useCursors();
  const filter = { ...(q ? { search: q } : {}), ...(status ? { status } : {}) };
  const [{ data, error, fetching }] = useQuery({
    query: UsersQuery,
    variables: { first: PAGE, after: cursors.after, filter },
  });
  const list = data?.users;
  return (
    <>
      <h1>Users</h1>
      <p>
        <Link href="/contacts">Search contacts by name or email instead</Link>
      </p>
      <div className="inline">
        <SearchBox
          label="Search usernames"
          value={q}
          onChange={(v) => {
            cursors.reset();
            setQ(v);
          }}
        />
        <div className="field">
          <label htmlFor="status">Status</label>
          <select
            id="status"
            value={status}
            onChange={(e) => {
              cursors.reset();
              setStatus(e.target.value as typeof status);
            }}
          >
            <option value="">Any</option>
            <option value="ACTIVE">Active</option>
            <option value="BLOCKED">Blocked</option>
          </select>
        </div>
      </div>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {list ? (
        <table>
          <caption>Users ({list.totalCount})</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Status</th>
              <th scope="col">Licenses</th>
              <th scope="col">Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {list.edges.map(({ node }) => (
              <tr key={node.id}>
                <td>
                  <Link href={`/users/${encodeURIComponent(node.id)}`}>{node.username}</Link>
                </td>
                <td>{node.contact?.fullName ?? '—'}</td>
                <td>{node.contact?.email ?? '—'}</td>
                <td>
                  {node.status === 'BLOCKED' ? <span className="badge danger">Blocked</span> : 'Active'}
                </td>
                <td>{node.licenses.length}</td>
                <td>{formatDate(node.lastLoginAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager cursors={cursors} pageInfo={list?.pageInfo} label="Users" />
    </>
  );
}

export function Contacts() {
  const [q, setQ] = useQueryParam();
  const cursors = useCursors();
  const [{ data, error, fetching }] = useQuery({
    query: ContactsQuery,
    variables: { first: PAGE, after: cursors.after, filter: q ? { search: q } : {} },
  });
  const list = data?.contacts;
  return (
    <>
      <h1>Contacts</h1>
      <SearchBox
        label="Search names and emails"
        value={q}
        onChange={(v) => {
          cursors.reset();
          setQ(v);
        }}
      />
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {list ? (
        <table>
          <caption>Contacts ({list.totalCount})</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Department</th>
              <th scope="col">Company</th>
              <th scope="col">User</th>
            </tr>
          </thead>
          <tbody>
            {list.edges.map(({ node }) => (
              <tr key={node.id}>
                <td>{node.fullName ?? ([node.givenName, node.surname].filter(Boolean).join(' ') || '—')}</td>
                <td>{node.email ?? '—'}</td>
                <td>{node.department ?? '—'}</td>
                <td>{node.company ?? '—'}</td>
                <td>
                  <Link href={`/users/${encodeURIComponent(node.user.id)}`}>{node.user.username}</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager cursors={cursors} pageInfo={list?.pageInfo} label="Contacts" />
    </>
  );
}
