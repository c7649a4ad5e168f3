import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';

const RolesQuery = graphql(`
  query Roles {
    roles {
      id
      name
      description
      builtin
    }
  }
`);

const CreateRole = graphql(`
  mutation CreateRole($input: CreateRoleInput!) {
    createRole(input: $input) {
      __typename
      ... on Role {
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

const UpdateRole = graphql(`
  mutation UpdateRole($input: UpdateRoleInput!) {
    updateRole(input: $input) {
      __typename
      ... on Role {
        id
        description
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const RemoveRole = graphql(`
  mutation RemoveRole($id: ID!) {
    removeRole(id: $id) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

/** The refusal in plain words where the code alone says little to an admin. */
function plain(r: Refusal): string {
  if (r.code === 'ROLE_BUILTIN')
    return 'The admin role is built in: it follows each connection’s admin groups and cannot be removed.';
  return r.message;
}

function RoleRow({
  role,
  onChanged,
}: {
  role: { id: string; name: string; description: string; builtin: boolean };
  onChanged(): void;
}) {
  const [description, setDescription] = useState(role.description);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [updateState, update] = useMutation(UpdateRole);
  const [removeState, remove] = useMutation(RemoveRole);
  const id = `role-${role.name}`;
  return (
    <tr>
      <td className="mono">{role.name}</td>
      <td>
        <input
          id={`${id}-desc`}
          value={description}
          aria-label={`Description of ${role.name}`}
          onChange={(e) => setDescription(e.target.value)}
          disabled={role.builtin}
        />
      </td>
      <td>{role.builtin ? <span className="badge">Built in</span> : null}</td>
      <td>
        {role.builtin ? null : (
          <button
            type="button"
            disabled={updateState.fetching || description === role.description}
            onClick={async () => {
              setRefusal(null);
              const out = (await update({ input: { id: role.id, description } })).data?.updateRole;
              if (out?.__typename === 'InputError') setRefusal(out);
              else onChanged();
            }}
          >
            Save {role.name}
          </button>
        )}{' '}
        <button
          type="button"
          disabled={removeState.fetching}
          onClick={async () => {
            setRefusal(null);
            if (
              !role.builtin &&
              !window.confirm(`Remove the role “${role.name}”, its rules, and every user’s hold of it?`)
            )
              return;
            const out = (await remove({ id: role.id })).data?.removeRole;
            if (out?.__typename === 'InputError') setRefusal(out);
            else onChanged();
          }}
        >
          Remove {role.name}
        </button>
        {refusal ? (
          <p role="alert" className="field-error">
            {plain(refusal)} ({refusal.code})
          </p>
        ) : null}
      </td>
    </tr>
  );
}

/** Roles an application reads from a user (User.roles, the sign-in result), given by role rules. */
export function Roles() {
  const [{ data, error, fetching }, refetch] = useQuery({ query: RolesQuery });
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [state, create] = useMutation(CreateRole);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    const out = (await create({ input: { name: name.trim(), description: description.trim() } })).data
      ?.createRole;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out) {
      setName('');
      setDescription('');
      reload();
    }
  }
  const nameError = fieldError(refusal, 'name');
  return (
    <>
      <h1>Roles</h1>
      <p>
        Given at every sign-in by each connection&apos;s role rules (group → role); applications read them
        from <span className="mono">User.roles</span> and the sign-in result.
      </p>
      <form onSubmit={submit} aria-label="New role" className="card">
        <Field
          id="role-name"
          label="Name"
          error={nameError}
          hint="What applications match on, e.g. “sales-manager”."
        >
          <input
            id="role-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...described('role-name', nameError, 'x')}
          />
        </Field>
        <Field id="role-description" label="Description">
          <input id="role-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <RefusalAlert refusal={refusal && !nameError ? refusal : null} />
        <ErrorAlert error={state.error} />
        <button type="submit" disabled={state.fetching || !name.trim()}>
          Create role
        </button>
      </form>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      <table>
        <caption>Roles</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Description</th>
            <th scope="col">Kind</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(data?.roles ?? []).map((r) => (
            <RoleRow key={`${r.id} ${r.description}`} role={r} onChanged={reload} />
          ))}
        </tbody>
      </table>
    </>
  );
}
