import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, formatDate, type Refusal, RefusalAlert } from '../ui.tsx';
import { SecretOnce, TokenTable } from './tokens.tsx';

const ScimTokensQuery = graphql(`
  query ScimTokens($id: ID!) {
    node(id: $id) {
      __typename
      ... on IdpConnection {
        id
        scimEnabled
        scimTokens {
          id
          name
          createdAt
          lastUsedAt
          revokedAt
        }
      }
    }
  }
`);

const CreateScimToken = graphql(`
  mutation CreateScimToken($connectionId: ID!, $name: String!) {
    createScimToken(connectionId: $connectionId, name: $name) {
      __typename
      ... on CreatedScimToken {
        secret
        baseUrl
        scimToken {
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

const RevokeScimToken = graphql(`
  mutation RevokeScimToken($id: ID!) {
    revokeScimToken(id: $id) {
      __typename
      ... on ScimToken {
        id
        revokedAt
      }
      ... on InputError {
        code
        message
      }
    }
  }
`);

/**
 * SCIM tokens of one connection: the IdP's provisioning settings take the Tenant URL and one of
 * these (Entra: Secret Token). Several can be live at once, for a rotation without downtime.
 */
export function ScimTokens({ connectionId, onEnabled }: { connectionId: string; onEnabled(): void }) {
  const [{ data, error }, refetch] = useQuery({ query: ScimTokensQuery, variables: { id: connectionId } });
  const [name, setName] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [secret, setSecret] = useState<{ name: string; value: string; baseUrl: string } | null>(null);
  const [createState, create] = useMutation(CreateScimToken);
  const [revokeState, revoke] = useMutation(RevokeScimToken);
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const node = data?.node?.__typename === 'IdpConnection' ? data.node : null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    setSecret(null);
    const out = (await create({ connectionId, name: name.trim() })).data?.createScimToken;
    if (out?.__typename === 'CreatedScimToken') {
      setSecret({ name: out.scimToken.name, value: out.secret, baseUrl: out.baseUrl });
      setName('');
      reload();
      // Making a token switches SCIM on for the connection.
      onEnabled();
    } else if (out?.__typename === 'InputError') setRefusal(out);
  }

  const nameError = fieldError(refusal, 'name');
  return (
    <section aria-labelledby="scim-tokens" className="card">
      <h2 id="scim-tokens">SCIM tokens</h2>
      <p>
        {node?.scimEnabled
          ? 'SCIM provisioning is on: the IdP may create, update and deactivate users with a live token.'
          : 'SCIM provisioning is off. Creating a token switches it on.'}
      </p>
      {secret ? (
        <SecretOnce
          secret={secret.value}
          what={`SCIM token “${secret.name}”`}
          extra={`Tenant URL: ${secret.baseUrl}`}
        />
      ) : null}
      <form onSubmit={submit} aria-label="New SCIM token">
        <Field id="scim-name" label="Token name" error={nameError} hint="E.g. “entra-provisioning”.">
          <input
            id="scim-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...described('scim-name', nameError, 'x')}
          />
        </Field>
        <RefusalAlert refusal={refusal && !nameError ? refusal : null} />
        <ErrorAlert error={createState.error ?? revokeState.error ?? error} />
        <button type="submit" disabled={createState.fetching || !name.trim()}>
          Create SCIM token
        </button>
      </form>
      <TokenTable
        caption="SCIM tokens of this connection"
        tokens={node?.scimTokens ?? []}
        onRevoke={async (t) => {
          await revoke({ id: t.id });
          reload();
        }}
      />
    </section>
  );
}

const InactiveUsersQuery = graphql(`
  query InactiveUsers($id: ID!) {
    inactiveUsers(connectionId: $id, first: 50) {
      lastSignInAt
      willBlock
      willReleaseSeats
      user {
        id
        username
      }
    }
  }
`);

const RunInactivityPolicy = graphql(`
  mutation RunInactivityPolicy {
    runInactivityPolicy {
      ran
      blocked
      seatsReleased
    }
  }
`);

/** Who the inactivity policy would act on now (a dry run), and running it at once. */
export function InactivityPreview({ connectionId, days }: { connectionId: string; days: number | null }) {
  const [{ data, error, fetching }, refetch] = useQuery({
    query: InactiveUsersQuery,
    variables: { id: connectionId },
    pause: days === null,
    requestPolicy: 'network-only',
  });
  const [runState, run] = useMutation(RunInactivityPolicy);
  const [outcome, setOutcome] = useState<string | null>(null);
  if (days === null) return null;
  const people = data?.inactiveUsers ?? [];
  return (
    <section aria-labelledby="inactive" className="card">
      <h2 id="inactive">Inactive for {days} days or more</h2>
      <ErrorAlert error={error ?? runState.error} />
      {fetching && !data ? <p>Loading…</p> : null}
      <table>
        <caption>Who the inactivity policy would act on now (nothing is changed until it runs)</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Last sign-in</th>
            <th scope="col">Will be blocked</th>
            <th scope="col">Seats given back</th>
          </tr>
        </thead>
        <tbody>
          {people.map((p) => (
            <tr key={p.user.id}>
              <td>{p.user.username}</td>
              <td>{p.lastSignInAt ? formatDate(p.lastSignInAt) : 'never'}</td>
              <td>{p.willBlock ? 'yes' : 'no'}</td>
              <td>{p.willReleaseSeats ? 'yes' : 'no'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        disabled={runState.fetching || people.length === 0}
        onClick={async () => {
          // The API runs the policy of every connection that has one: say so before it acts.
          if (
            !window.confirm(
              `Run the inactivity policy now? It acts on every connection with a policy — here on ${people.length} ${people.length === 1 ? 'person' : 'people'}.`,
            )
          )
            return;
          const r = (await run({})).data?.runInactivityPolicy;
          if (r) {
            setOutcome(
              r.ran
                ? `Done: ${r.blocked} blocked, ${r.seatsReleased} seats given back.`
                : 'Another server was running the policy at that moment: nothing was done here.',
            );
          }
          refetch({ requestPolicy: 'network-only' });
        }}
      >
        Run the policy now
      </button>
      <span className="hint"> (every connection&apos;s policy runs, as on the hourly schedule)</span>
      <span aria-live="polite"> {outcome}</span>
    </section>
  );
}
