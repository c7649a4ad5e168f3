import { type FormEvent, useEffect, useState } from 'react';
import { useMutation, useQuery } from 'urql';
import { Link } from 'wouter';
import { graphql } from '../graphql.ts';
import { described, ErrorAlert, Field, type Refusal, RefusalAlert } from '../ui.tsx';

const RulesQuery = graphql(`
  query Rules($id: ID!) {
    node(id: $id) {
      __typename
      ... on IdpConnection {
        id
        name
        groupsAttribute
        licenseRules {
          id
          kind
          groupValue
          expression
          revokeUnmatched
          onExhausted
          license {
            id
          }
        }
        roleRules {
          id
          groupValue
          role {
            id
          }
        }
      }
    }
    licenses(first: 100) {
      edges {
        node {
          id
          name
          seats
          used
          active
        }
      }
    }
    roles {
      id
      name
      builtin
    }
  }
`);

const SetLicenseRules = graphql(`
  mutation SetLicenseRules($connectionId: ID!, $rules: [LicenseRuleInput!]!, $force: Boolean) {
    setLicenseRules(connectionId: $connectionId, rules: $rules, force: $force) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

const SetRoleRules = graphql(`
  mutation SetRoleRules($connectionId: ID!, $rules: [RoleRuleInput!]!, $force: Boolean) {
    setRoleRules(connectionId: $connectionId, rules: $rules, force: $force) {
      __typename
      ... on InputError {
        code
        message
        path
      }
    }
  }
`);

type Kind = 'EVERYONE' | 'GROUP' | 'EXPRESSION';
interface LicenseRuleDraft {
  key: number;
  licenseId: string;
  kind: Kind;
  groupValue: string;
  expression: string;
  revokeUnmatched: boolean;
  onExhausted: 'SKIP' | 'REFUSE';
}
interface RoleRuleDraft {
  key: number;
  groupValue: string;
  roleId: string;
}

let nextKey = 1;

/** The refusal's message when it names rule `i` (and `field`, when given): InputError.path is rules.i.field. */
function ruleError(refusal: Refusal | null, i: number, field?: string): string | undefined {
  const p = refusal?.path;
  if (p?.[0] !== 'rules' || p[1] !== String(i)) return undefined;
  return field === undefined || p[2] === field ? refusal?.message : undefined;
}

/** A group rule written before any sign-in carried the groups attribute: the API asks to confirm. */
const wantsForce = (r: Refusal | null) => r?.code === 'GROUPS_ATTRIBUTE_NOT_SEEN';

function move<T>(list: T[], i: number, by: number): T[] {
  const j = i + by;
  if (j < 0 || j >= list.length) return list;
  const next = [...list];
  [next[i], next[j]] = [next[j] as T, next[i] as T];
  return next;
}

function LicenseRules({
  connectionId,
  initial,
  licenses,
  onSaved,
}: {
  connectionId: string;
  initial: LicenseRuleDraft[];
  licenses: { id: string; name: string; seats: number | null; used: number; active: boolean }[];
  onSaved(): void;
}) {
  const [rules, setRules] = useState(initial);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saved, setSaved] = useState(false);
  const [state, save] = useMutation(SetLicenseRules);
  useEffect(() => setRules(initial), [initial]);
  const set = (i: number, patch: Partial<LicenseRuleDraft>) =>
    setRules((rs) => rs.map((r, k) => (k === i ? { ...r, ...patch } : r)));

  async function submit(force: boolean) {
    setRefusal(null);
    setSaved(false);
    const input = rules.map((r) => ({
      licenseId: r.licenseId,
      kind: r.kind,
      ...(r.kind === 'GROUP' ? { groupValue: r.groupValue } : {}),
      ...(r.kind === 'EXPRESSION' ? { expression: r.expression } : {}),
      revokeUnmatched: r.revokeUnmatched,
      onExhausted: r.onExhausted,
    }));
    const out = (await save({ connectionId, rules: input, force })).data?.setLicenseRules;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out) {
      setSaved(true);
      onSaved();
    }
  }

  return (
    <form
      aria-labelledby="license-rules"
      className="card"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void submit(false);
      }}
    >
      <h2 id="license-rules">License rules</h2>
      <p className="hint">
        Checked at every sign-in, in this order; the first rule naming a license decides it. No rules: a new
        user gets every license with a free seat.
      </p>
      <ol className="rules">
        {rules.map((r, i) => {
          const id = `lr-${r.key}`;
          const license = licenses.find((l) => l.id === r.licenseId);
          return (
            <li key={r.key} aria-label={`License rule ${i + 1}`}>
              <Field id={`${id}-license`} label="License" error={ruleError(refusal, i, 'licenseId')}>
                <select
                  id={`${id}-license`}
                  value={r.licenseId}
                  onChange={(e) => set(i, { licenseId: e.target.value })}
                  {...described(`${id}-license`, ruleError(refusal, i, 'licenseId'))}
                >
                  {licenses.map((l) => (
                    <option key={l.id} value={l.id}>
                      {l.name} ({l.used} / {l.seats ?? '∞'}){l.active ? '' : ', inactive'}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id={`${id}-kind`} label="Who gets it" error={ruleError(refusal, i, 'kind')}>
                <select
                  id={`${id}-kind`}
                  value={r.kind}
                  onChange={(e) => set(i, { kind: e.target.value as Kind })}
                >
                  <option value="EVERYONE">Everyone</option>
                  <option value="GROUP">Members of a group</option>
                  <option value="EXPRESSION">Whom an expression picks</option>
                </select>
              </Field>
              {r.kind === 'GROUP' ? (
                <Field
                  id={`${id}-group`}
                  label="Group value"
                  hint="As the groups attribute carries it (Entra: the group's object id)."
                  error={ruleError(refusal, i, 'groupValue')}
                >
                  <input
                    id={`${id}-group`}
                    value={r.groupValue}
                    onChange={(e) => set(i, { groupValue: e.target.value })}
                    {...described(`${id}-group`, ruleError(refusal, i, 'groupValue'), 'x')}
                  />
                </Field>
              ) : null}
              {r.kind === 'EXPRESSION' ? (
                <Field
                  id={`${id}-expr`}
                  label="Expression (JSONata, true gives the license)"
                  hint='Over $attributes and $nameId, e.g. $attributes.department[0] = "Sales"'
                  error={ruleError(refusal, i, 'expression')}
                >
                  <input
                    id={`${id}-expr`}
                    className="mono"
                    value={r.expression}
                    onChange={(e) => set(i, { expression: e.target.value })}
                    {...described(`${id}-expr`, ruleError(refusal, i, 'expression'), 'x')}
                  />
                </Field>
              ) : null}
              <Field id={`${id}-exhausted`} label="When no seat is free">
                <select
                  id={`${id}-exhausted`}
                  value={r.onExhausted}
                  onChange={(e) => set(i, { onExhausted: e.target.value as 'SKIP' | 'REFUSE' })}
                >
                  <option value="SKIP">Let them in without it</option>
                  <option value="REFUSE">Refuse the sign-in</option>
                </select>
              </Field>
              <div className="check">
                <input
                  id={`${id}-revoke`}
                  type="checkbox"
                  checked={r.revokeUnmatched}
                  onChange={(e) => set(i, { revokeUnmatched: e.target.checked })}
                />
                <label htmlFor={`${id}-revoke`}>Take it back from those the rule no longer matches</label>
              </div>
              {ruleError(refusal, i) &&
              !['licenseId', 'kind', 'groupValue', 'expression'].includes(refusal?.path?.[2] ?? '') ? (
                <p role="alert" className="field-error">
                  {ruleError(refusal, i)}
                </p>
              ) : null}
              <p className="actions">
                <button type="button" onClick={() => setRules((rs) => move(rs, i, -1))} disabled={i === 0}>
                  Move rule {i + 1} up
                </button>{' '}
                <button
                  type="button"
                  onClick={() => setRules((rs) => move(rs, i, 1))}
                  disabled={i === rules.length - 1}
                >
                  Move rule {i + 1} down
                </button>{' '}
                <button type="button" onClick={() => setRules((rs) => rs.filter((_, k) => k !== i))}>
                  Remove rule {i + 1}
                  {license ? ` (${license.name})` : ''}
                </button>
              </p>
            </li>
          );
        })}
      </ol>
      <p>
        <button
          type="button"
          disabled={licenses.length === 0}
          onClick={() =>
            setRules((rs) => [
              ...rs,
              {
                key: nextKey++,
                licenseId: licenses[0]?.id ?? '',
                kind: 'EVERYONE',
                groupValue: '',
                expression: '',
                revokeUnmatched: false,
                onExhausted: 'SKIP',
              },
            ])
          }
        >
          Add license rule
        </button>
      </p>
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={state.error} />
      <button type="submit" disabled={state.fetching}>
        Save license rules
      </button>
      {wantsForce(refusal) ? (
        <button type="button" onClick={() => void submit(true)} disabled={state.fetching}>
          Save anyway
        </button>
      ) : null}
      <span aria-live="polite">{saved ? ' Saved.' : ''}</span>
    </form>
  );
}

function RoleRules({
  connectionId,
  initial,
  roles,
  onSaved,
}: {
  connectionId: string;
  initial: RoleRuleDraft[];
  roles: { id: string; name: string; builtin: boolean }[];
  onSaved(): void;
}) {
  const [rules, setRules] = useState(initial);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [saved, setSaved] = useState(false);
  const [state, save] = useMutation(SetRoleRules);
  useEffect(() => setRules(initial), [initial]);
  const choosable = roles.filter((r) => !r.builtin);

  async function submit(force: boolean) {
    setRefusal(null);
    setSaved(false);
    const out = (
      await save({
        connectionId,
        rules: rules.map((r) => ({ groupValue: r.groupValue, roleId: r.roleId })),
        force,
      })
    ).data?.setRoleRules;
    if (out?.__typename === 'InputError') setRefusal(out);
    else if (out) {
      setSaved(true);
      onSaved();
    }
  }

  return (
    <form
      aria-labelledby="role-rules"
      className="card"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        void submit(false);
      }}
    >
      <h2 id="role-rules">Role rules</h2>
      <p className="hint">
        Group → role, applied at every sign-in (the admin role follows the connection&apos;s admin groups).
        Roles are made on the <Link href="/roles">Roles</Link> page.
      </p>
      <ol className="rules">
        {rules.map((r, i) => {
          const id = `rr-${r.key}`;
          return (
            <li key={r.key} aria-label={`Role rule ${i + 1}`}>
              <Field
                id={`${id}-group`}
                label="Group value"
                error={ruleError(refusal, i, 'groupValue') ?? ruleError(refusal, i)}
              >
                <input
                  id={`${id}-group`}
                  value={r.groupValue}
                  onChange={(e) =>
                    setRules((rs) => rs.map((x, k) => (k === i ? { ...x, groupValue: e.target.value } : x)))
                  }
                  {...described(`${id}-group`, ruleError(refusal, i, 'groupValue') ?? ruleError(refusal, i))}
                />
              </Field>
              <Field id={`${id}-role`} label="Role" error={ruleError(refusal, i, 'roleId')}>
                <select
                  id={`${id}-role`}
                  value={r.roleId}
                  onChange={(e) =>
                    setRules((rs) => rs.map((x, k) => (k === i ? { ...x, roleId: e.target.value } : x)))
                  }
                >
                  {choosable.map((role) => (
                    <option key={role.id} value={role.id}>
                      {role.name}
                    </option>
                  ))}
                </select>
              </Field>
              <button type="button" onClick={() => setRules((rs) => rs.filter((_, k) => k !== i))}>
                Remove role rule {i + 1}
              </button>
            </li>
          );
        })}
      </ol>
      <p>
        <button
          type="button"
          disabled={choosable.length === 0}
          onClick={() =>
            setRules((rs) => [...rs, { key: nextKey++, groupValue: '', roleId: choosable[0]?.id ?? '' }])
          }
        >
          Add role rule
        </button>
        {choosable.length === 0 ? <span className="hint"> Make a role first.</span> : null}
      </p>
      <RefusalAlert refusal={refusal} />
      <ErrorAlert error={state.error} />
      <button type="submit" disabled={state.fetching}>
        Save role rules
      </button>
      {wantsForce(refusal) ? (
        <button type="button" onClick={() => void submit(true)} disabled={state.fetching}>
          Save anyway
        </button>
      ) : null}
      <span aria-live="polite">{saved ? ' Saved.' : ''}</span>
    </form>
  );
}

/** A connection's license rules and group → role rules. */
export function RulesPage({ id }: { id: string }) {
  const [{ data, error, fetching }, refetch] = useQuery({ query: RulesQuery, variables: { id } });
  const reload = () => refetch({ requestPolicy: 'network-only' });
  const node = data?.node;
  const [licenseDrafts, setLicenseDrafts] = useState<LicenseRuleDraft[]>([]);
  const [roleDrafts, setRoleDrafts] = useState<RoleRuleDraft[]>([]);
  useEffect(() => {
    if (node?.__typename !== 'IdpConnection') return;
    setLicenseDrafts(
      node.licenseRules.map((r) => ({
        key: nextKey++,
        licenseId: r.license.id,
        kind: r.kind,
        groupValue: r.groupValue ?? '',
        expression: r.expression ?? '',
        revokeUnmatched: r.revokeUnmatched,
        onExhausted: r.onExhausted,
      })),
    );
    setRoleDrafts(
      node.roleRules.map((r) => ({ key: nextKey++, groupValue: r.groupValue, roleId: r.role.id })),
    );
  }, [node]);
  if (error) return <ErrorAlert error={error} />;
  if (fetching && !data) return <p>Loading…</p>;
  if (node?.__typename !== 'IdpConnection') return <h1>No such connection</h1>;
  const licenses = (data?.licenses?.edges ?? []).map((e) => e.node);
  return (
    <>
      <p>
        <Link href={`/connections/${encodeURIComponent(node.id)}`}>← {node.name}</Link>
      </p>
      <h1>Rules of {node.name}</h1>
      <p className="hint">
        Group rules read the attribute <span className="mono">{node.groupsAttribute}</span>.
      </p>
      <LicenseRules connectionId={node.id} initial={licenseDrafts} licenses={licenses} onSaved={reload} />
      <RoleRules connectionId={node.id} initial={roleDrafts} roles={data?.roles ?? []} onSaved={reload} />
    </>
  );
}
