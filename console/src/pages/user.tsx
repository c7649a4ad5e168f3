import { useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../graphql.ts';
import { ErrorAlert, Field, formatDate, type Refusal, RefusalAlert } from '../ui.tsx';

const UserQuery = graphql(`
  query User($id: ID!) {
    node(id: $id) {
      __typename
      ... on User {
        id
        username
        status
        createdAt
        lastLoginAt
        roles {
          name
        }
        licenses {
          id
          name
          active
        }
        contact {
          id
          fullName
          givenName
          surname
          email
          phone
          mobilePhone
          jobTitle
          department
          company
          officeLocation
          city
          country
          language
          externalId
          employeeId
          groups
          updatedAt
          customFields {
            field {
              name
              label
              type
            }
            string
            number
            boolean
            date
            strings
          }
        }
      }
    }
    licenses(first: 100) {
      edges {
        node {
          id
          name
          active
          available
        }
      }
    }
    contactFields {
      name
      label
    }
  }
`);

const Grant = graphql(`
  mutation GrantLicense($input: LicenseGrantInput!) {
    grantLicense(input: $input) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);
const Revoke = graphql(`
  mutation RevokeLicense($input: LicenseGrantInput!) {
    revokeLicense(input: $input) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);
const Block = graphql(`
  mutation BlockUser($id: ID!) {
    blockUser(id: $id) {
      __typename
      ... on User {
        id
        status
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);
const Unblock = graphql(`
  mutation UnblockUser($id: ID!) {
    unblockUser(id: $id) {
      __typename
      ... on User {
        id
        status
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const show = (v: unknown): string =>
  v === null || v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : String(v);

export function UserPage({ id }: { id: string }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: UserQuery, variables: { id } });
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [pick, setPick] = useState('');
  const [grantState, grant] = useMutation(Grant);
  const [revokeState, revoke] = useMutation(Revoke);
  const [blockState, block] = useMutation(Block);
  const [unblockState, unblock] = useMutation(Unblock);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const user = data?.node;
  if (error) return <ErrorAlert error={error} />;
  if (fetching && !data) return <p>Loading…</p>;
  if (user?.__typename !== 'User') return <h1>No such user</h1>;
  const labels = new Map((data?.contactFields ?? []).map((f) => [f.name, f.label]));
  const held = new Set(user.licenses.map((l) => l.id));
  const grantable = (data?.licenses?.edges ?? []).map((e) => e.node).filter((l) => !held.has(l.id));
  const busy = grantState.fetching || revokeState.fetching || blockState.fetching || unblockState.fetching;

  async function act(
    run: () => Promise<{ data?: Record<string, { __typename: string } | null> | undefined }>,
  ) {
    setRefusal(null);
    const r = await run();
    const out = Object.values(r.data ?? {})[0] as (Refusal & { __typename: string }) | null | undefined;
    if (out?.__typename === 'InputError') setRefusal(out);
    else reload();
  }

  const contact = user.contact as Record<string, unknown> | null;
  return (
    <>
      <p>
        <Link href="/users">← Users</Link>
      </p>
      <h1>{user.username}</h1>
      <dl className="facts">
        <dt>Status</dt>
        <dd>{user.status === 'BLOCKED' ? <span className="badge danger">Blocked</span> : 'Active'}</dd>
        <dt>Created</dt>
        <dd>{formatDate(user.createdAt)}</dd>
        <dt>Last sign-in</dt>
        <dd>{formatDate(user.lastLoginAt)}</dd>
        <dt>Roles</dt>
        <dd data-testid="user-roles">
          {user.roles.length ? user.roles.map((r) => r.name).join(', ') : 'none'}
        </dd>
      </dl>
      <p className="actions">
        {user.status === 'BLOCKED' ? (
          <button type="button" disabled={busy} onClick={() => act(() => unblock({ id: user.id }))}>
            Unblock
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => act(() => block({ id: user.id }))}>
            Block
          </button>
        )}
        <span className="hint">Blocking ends their sessions at once and refuses their sign-ins.</span>
      </p>
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={grantState.error ?? revokeState.error ?? blockState.error ?? unblockState.error} />
      <section aria-labelledby="lic-h" className="card">
        <h2 id="lic-h">Licenses</h2>
        {user.licenses.length ? (
          <ul>
            {user.licenses.map((l) => (
              <li key={l.id}>
                {l.name}
                {l.active ? '' : ' (inactive)'}{' '}
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  aria-label={`Revoke ${l.name}`}
                  onClick={() => act(() => revoke({ input: { userId: user.id, licenseId: l.id } }))}
                >
                  Revoke
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p>No license.</p>
        )}
        {grantable.length ? (
          <form
            className="inline"
            onSubmit={(e) => {
              e.preventDefault();
              if (pick) void act(() => grant({ input: { userId: user.id, licenseId: pick } }));
            }}
          >
            <Field id="grant-pick" label="License to grant">
              <select id="grant-pick" value={pick} onChange={(e) => setPick(e.target.value)}>
                <option value="">Choose…</option>
                {grantable.map((l) => (
                  <option key={l.id} value={l.id}>
                    {l.name}
                    {l.available === null ? '' : ` (${l.available} free)`}
                    {l.active ? '' : ' (inactive)'}
                  </option>
                ))}
              </select>
            </Field>
            <button type="submit" disabled={busy || !pick}>
              Grant
            </button>
          </form>
        ) : null}
      </section>
      <section aria-labelledby="contact-h" className="card">
        <h2 id="contact-h">Contact</h2>
        {contact ? (
          <table>
            <caption>Contact fields</caption>
            <tbody>
              {Object.entries(contact)
                .filter(([k]) => !['id', '__typename', 'updatedAt', 'customFields'].includes(k))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row">{labels.get(k) ?? k}</th>
                    <td>{show(v)}</td>
                  </tr>
                ))}
              {(user.contact?.customFields ?? []).map((c) => (
                <tr key={c.field.name}>
                  <th scope="row">{c.field.label}</th>
                  <td>
                    {c.strings
                      ? c.strings.join(', ')
                      : c.boolean !== null
                        ? c.boolean
                          ? 'yes'
                          : 'no'
                        : String(c.string ?? c.number ?? c.date ?? '—')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>No contact.</p>
        )}
      </section>
      <p>
        <Link href={`/activity?user=${encodeURIComponent(user.id)}`}>Sign-in events of this user</Link>
      </p>
    </>
  );
}
