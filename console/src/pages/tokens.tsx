import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, formatDate, type Refusal, RefusalAlert } from '../ui.tsx';

const AdminTokensQuery = graphql(`
  query AdminTokens {
    adminTokens {
      id
      name
      createdBy
      createdAt
      lastUsedAt
      revokedAt
    }
  }
`);

const CreateAdminToken = graphql(`
  mutation CreateAdminToken($name: String!) {
    createAdminToken(name: $name) {
      __typename
      ... on CreatedAdminToken {
        secret
        adminToken {
          id
          name
        }
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const RevokeAdminToken = graphql(`
  mutation RevokeAdminToken($id: ID!) {
    revokeAdminToken(id: $id) {
      __typename
      ... on AdminToken {
        id
        revokedAt
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

/**
 * A secret shown once, right after it was made: kept in this component's state only (gone on
 * reload or navigation), never in storage; the API keeps only its hash.
 */
export function SecretOnce({ secret, what, extra }: { secret: string; what: string; extra?: string }) {
  return (
    <div role="status" className="card secret" aria-labelledby="secret-once">
      <h2 id="secret-once">Copy the {what} now</h2>
      <p>It is shown this once: jitprov keeps only its hash and cannot show it again.</p>
      <p>
        <label htmlFor="secret-value">{what}</label>
        <input
          id="secret-value"
          className="mono"
          readOnly
          value={secret}
          onFocus={(e) => e.target.select()}
        />
      </p>
      {extra ? <p>{extra}</p> : null}
    </div>
  );
}

export interface TokenRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** Who made it (admin tokens) */
  createdBy?: string;
}

/** A list of bearer tokens (admin or SCIM) with their status; revoking one asks first. */
export function TokenTable({
  caption,
  tokens,
  onRevoke,
}: {
  caption: string;
  tokens: readonly TokenRow[];
  onRevoke(token: TokenRow): Promise<void>;
}) {
  const by = tokens.some((t) => t.createdBy !== undefined);
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Created</th>
          {by ? <th scope="col">By</th> : null}
          <th scope="col">Last used</th>
          <th scope="col">Status</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{formatDate(t.createdAt)}</td>
            {by ? <td>{t.createdBy}</td> : null}
            <td>{t.lastUsedAt ? formatDate(t.lastUsedAt) : 'never'}</td>
            <td>
              {t.revokedAt ? (
                <span className="badge danger">Revoked {formatDate(t.revokedAt)}</span>
              ) : (
                <span className="badge ok">Active</span>
              )}
            </td>
            <td>
              {t.revokedAt ? null : (
                <button
                  type="button"
                  onClick={() => {
                    if (window.confirm(`Revoke the token “${t.name}”? What uses it stops working at once.`)) {
                      void onRevoke(t);
                    }
                  }}
                >
                  Revoke {t.name}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Named admin tokens: for automation (CI, scripts), audited by name; the bootstrap token stays. */
export function AdminTokens() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: AdminTokensQuery });
  const [name, setName] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [createState, create] = useMutation(CreateAdminToken);
  const [revokeState, revoke] = useMutation(RevokeAdminToken);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    setSecret(null);
    const out = (await create({ name: name.trim() })).data?.createAdminToken;
    if (out?.__typename === 'CreatedAdminToken') {
      setSecret({ name: out.adminToken.name, value: out.secret });
      setName('');
      reload();
    } else if (out?.__typename === 'InputError') setRefusal(out);
  }

  const nameError = fieldError(refusal, 'name');
  return (
    <>
      <h1>Admin tokens</h1>
      <p>
        Bearer tokens for the admin API, one per script or pipeline: each is audited by its name (actor{' '}
        <span className="mono">token:&lt;name&gt;</span>) and can be revoked alone. The bootstrap{' '}
        <span className="mono">ADMIN_TOKEN</span> of the server&apos;s environment is not listed.
      </p>
      {secret ? <SecretOnce secret={secret.value} what={`token “${secret.name}”`} /> : null}
      <form onSubmit={submit} aria-label="New admin token" className="card">
        <Field
          id="tok-name"
          label="Name"
          error={nameError}
          hint="What uses it, e.g. “terraform” or “nightly export”."
        >
          <input
            id="tok-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...described('tok-name', nameError, 'x')}
          />
        </Field>
        <RefusalAlert refusal={refusal && !nameError ? refusal : null} />
        <ErrorAlert error={createState.error} />
        <button type="submit" disabled={createState.fetching || !name.trim()}>
          Create token
        </button>
      </form>
      <ErrorAlert error={error ?? revokeState.error} />
      {fetching && !data ? <p>Loading…</p> : null}
      <TokenTable
        caption="Tokens"
        tokens={data?.adminTokens ?? []}
        onRevoke={async (t) => {
          await revoke({ id: t.id });
          reload();
        }}
      />
    </>
  );
}
