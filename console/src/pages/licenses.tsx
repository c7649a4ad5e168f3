import { type FormEvent, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, fieldError, type Refusal, RefusalAlert } from '../ui.tsx';

const PAGE = 25;

const LicensesQuery = graphql(`
  query Licenses($first: Int, $after: String) {
    licenses(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          seats
          used
          available
          active
        }
      }
    }
  }
`);

const CreateLicense = graphql(`
  mutation CreateLicense($input: CreateLicenseInput!) {
    createLicense(input: $input) {
      __typename
      ... on License {
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

const UpdateLicense = graphql(`
  mutation UpdateLicense($input: UpdateLicenseInput!) {
    updateLicense(input: $input) {
      __typename
      ... on License {
        id
        name
        seats
        used
        available
        active
      }
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

interface License {
  id: string;
  name: string;
  seats: number | null;
  used: number;
  available: number | null;
  active: boolean;
}

/** The refusal in plain words where the code alone says little to an admin. */
function plain(refusal: Refusal, license: License): string {
  if (refusal.code === 'LICENSE_SEATS_IN_USE') {
    return `${license.used} seats of “${license.name}” are in use, more than the new limit. Revoke seats (Users) first, or choose a limit of at least ${license.used}.`;
  }
  return refusal.message;
}

function LicenseRow({ license, onChanged }: { license: License; onChanged(): void }) {
  const [seats, setSeats] = useState(license.seats === null ? '' : String(license.seats));
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [{ fetching, error }, update] = useMutation(UpdateLicense);
  const id = `lic-${license.id}`;

  async function save(input: { seats?: number; unlimited?: boolean; active?: boolean }) {
    setRefusal(null);
    const out = (await update({ input: { id: license.id, ...input } })).data?.updateLicense;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'License') onChanged();
  }
  function submitSeats(e: FormEvent) {
    e.preventDefault();
    void save(seats.trim() === '' ? { unlimited: true } : { seats: Number(seats) });
  }
  const seatError = refusal ? plain(refusal, license) : undefined;
  return (
    <tr>
      <th scope="row">{license.name}</th>
      <td>
        {license.used} / {license.seats ?? 'unlimited'}
        {license.available === 0 ? <span className="badge warn"> Full</span> : null}
      </td>
      <td>{license.active ? 'Active' : <span className="badge danger">Inactive</span>}</td>
      <td>
        <form onSubmit={submitSeats} className="inline">
          <div className={seatError ? 'field invalid' : 'field'}>
            <label htmlFor={`${id}-seats`}>Seats of {license.name}</label>
            <input
              id={`${id}-seats`}
              type="number"
              min={0}
              placeholder="unlimited"
              value={seats}
              onChange={(e) => setSeats(e.target.value)}
              {...described(`${id}-seats`, seatError)}
            />
            {seatError ? (
              <small id={`${id}-seats-error`} className="field-error" role="alert">
                {seatError} ({refusal?.code})
              </small>
            ) : null}
          </div>
          <button type="submit" disabled={fetching}>
            Save seats
          </button>
        </form>
        <ErrorAlert error={error} />
      </td>
      <td>
        <button
          type="button"
          className="secondary"
          onClick={() => save({ active: !license.active })}
          disabled={fetching}
          aria-label={`${license.active ? 'Deactivate' : 'Activate'} ${license.name}`}
        >
          {license.active ? 'Deactivate' : 'Activate'}
        </button>
      </td>
    </tr>
  );
}

export function Licenses() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const [{ data, error, fetching }, refetch] = useQuery({
    query: LicensesQuery,
    variables: { first: PAGE, after },
  });
  const [name, setName] = useState('');
  const [seats, setSeats] = useState('');
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [createState, create] = useMutation(CreateLicense);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setRefusal(null);
    const input = { name: name.trim(), ...(seats.trim() ? { seats: Number(seats) } : {}) };
    const out = (await create({ input })).data?.createLicense;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out?.__typename === 'License') {
      setName('');
      setSeats('');
      reload();
    }
  }

  const list = data?.licenses;
  return (
    <>
      <h1>Licenses</h1>
      <p>Every new user gets each active license with a free seat.</p>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {list ? (
        <table>
          <caption>Licenses ({list.totalCount})</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Seats used / total</th>
              <th scope="col">Status</th>
              <th scope="col">Change seats</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.edges.map(({ node }) => (
              <LicenseRow key={`${node.id} ${node.seats} ${node.used}`} license={node} onChanged={reload} />
            ))}
          </tbody>
        </table>
      ) : null}
      <p className="actions">
        {cursors.length > 1 ? (
          <button type="button" className="secondary" onClick={() => setCursors((c) => c.slice(0, -1))}>
            Previous page
          </button>
        ) : null}
        {list?.pageInfo.hasNextPage ? (
          <button
            type="button"
            className="secondary"
            onClick={() => setCursors((c) => [...c, list.pageInfo.endCursor ?? null])}
          >
            Next page
          </button>
        ) : null}
      </p>
      <form onSubmit={submit} className="card" aria-label="New license">
        <h2>New license</h2>
        <Field id="new-lic-name" label="Name" error={fieldError(refusal, 'name')}>
          <input
            id="new-lic-name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            {...described('new-lic-name', fieldError(refusal, 'name'))}
          />
        </Field>
        <Field
          id="new-lic-seats"
          label="Seats"
          hint="Leave empty for unlimited."
          error={fieldError(refusal, 'seats')}
        >
          <input
            id="new-lic-seats"
            type="number"
            min={0}
            value={seats}
            onChange={(e) => setSeats(e.target.value)}
            {...described('new-lic-seats', fieldError(refusal, 'seats'), 'x')}
          />
        </Field>
        <RefusalAlert refusal={refusal} />
        <ErrorAlert error={createState.error} />
        <button type="submit" disabled={createState.fetching || !name.trim()}>
          Create license
        </button>
      </form>
    </>
  );
}
