import { useQuery } from 'urql';
import { useSearchParams } from 'wouter';
import { graphql } from '../graphql.ts';
import { ErrorAlert, formatDate } from '../ui.tsx';
import { Pager, useCursors } from './pager.tsx';

const PAGE = 25;

const EventsQuery = graphql(`
  query ProvisioningEvents($first: Int, $after: String, $filter: ProvisioningEventFilter) {
    provisioningEvents(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          createdAt
          outcome
          nameId
          issuer
          via
          errorCode
          errorMessage
          changes
          licensesGranted
          fallbacks {
            column
            code
            policy
          }
        }
      }
    }
  }
`);

const AuditQuery = graphql(`
  query AdminAudit($first: Int, $after: String, $action: String, $targetId: String) {
    adminAuditEvents(first: $first, after: $after, action: $action, targetId: $targetId) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          createdAt
          actor
          action
          targetType
          targetId
          before
          after
        }
      }
    }
  }
`);

const show = (v: unknown): string =>
  v === null || v === undefined ? '∅' : typeof v === 'object' ? JSON.stringify(v) : String(v);

interface Change {
  column?: string;
  old?: unknown;
  new?: unknown;
}

const OUTCOMES = ['CREATED', 'UPDATED', 'SIGNED_IN', 'REJECTED'] as const;
type Outcome = (typeof OUTCOMES)[number];

/** Filters kept in the address, so a filtered view is a deep link. */
function useFilter(name: string): [string, (v: string) => void] {
  const [params, setParams] = useSearchParams();
  return [
    params.get(name) ?? '',
    (v) =>
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (v) next.set(name, v);
          else next.delete(name);
          return next;
        },
        { replace: true },
      ),
  ];
}

export function Activity() {
  const [outcome, setOutcome] = useFilter('outcome');
  const [nameId, setNameId] = useFilter('nameId');
  const [user] = useFilter('user');
  const cursors = useCursors();
  const filter = {
    ...(OUTCOMES.includes(outcome as Outcome) ? { outcome: outcome as Outcome } : {}),
    ...(nameId ? { nameId } : {}),
    ...(user ? { userId: user } : {}),
  };
  const [{ data, error, fetching }] = useQuery({
    query: EventsQuery,
    variables: { first: PAGE, after: cursors.after, filter },
  });
  const list = data?.provisioningEvents;
  return (
    <>
      <h1>Sign-in events</h1>
      <p>Every ACS handoff: who, created / updated / signed in / refused, the field changes.</p>
      <div className="inline">
        <div className="field">
          <label htmlFor="ev-outcome">Outcome</label>
          <select
            id="ev-outcome"
            value={outcome}
            onChange={(e) => {
              cursors.reset();
              setOutcome(e.target.value);
            }}
          >
            <option value="">Any</option>
            {OUTCOMES.map((o) => (
              <option key={o} value={o}>
                {o.replace('_', ' ').toLowerCase()}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-nameid">NameID</label>
          <input
            id="ev-nameid"
            type="search"
            value={nameId}
            onChange={(e) => {
              cursors.reset();
              setNameId(e.target.value);
            }}
          />
        </div>
        {user ? <p>Events of one user.</p> : null}
      </div>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {list ? (
        <table>
          <caption>Sign-in events ({list.totalCount})</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Outcome</th>
              <th scope="col">NameID</th>
              <th scope="col">Via</th>
              <th scope="col">Changes</th>
              <th scope="col">Licenses granted</th>
              <th scope="col">Refusal</th>
            </tr>
          </thead>
          <tbody>
            {list.edges.map(({ node: e }) => (
              <tr key={e.id}>
                <td>{formatDate(e.createdAt)}</td>
                <td>
                  <span className={`badge ${e.outcome === 'REJECTED' ? 'danger' : 'ok'}`}>{e.outcome}</span>
                </td>
                <td>{e.nameId ?? '—'}</td>
                <td>{e.via}</td>
                <td>
                  {Array.isArray(e.changes) && e.changes.length ? (
                    <ul>
                      {(e.changes as Change[]).map((c) => (
                        <li key={String(c.column)}>
                          {c.column}: {show(c.old)} → {show(c.new)}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    '—'
                  )}
                  {e.fallbacks.map((f) => (
                    <p key={f.column} className="hint">
                      {f.column} fell back ({f.policy}): {f.code}
                    </p>
                  ))}
                </td>
                <td>{e.licensesGranted.join(', ') || '—'}</td>
                <td>
                  {e.errorCode ? (
                    <>
                      <strong>{e.errorCode}</strong>: {e.errorMessage}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager cursors={cursors} pageInfo={list?.pageInfo} label="Sign-in events" />
    </>
  );
}

/** The keys whose values differ between before and after (all of them for a create or delete). */
function diff(before: unknown, after: unknown): { key: string; from: unknown; to: unknown }[] {
  const b = (before && typeof before === 'object' ? before : {}) as Record<string, unknown>;
  const a = (after && typeof after === 'object' ? after : {}) as Record<string, unknown>;
  return [...new Set([...Object.keys(b), ...Object.keys(a)])]
    .filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k]))
    .map((key) => ({ key, from: b[key], to: a[key] }));
}

export function Audit() {
  const [action, setAction] = useFilter('action');
  const cursors = useCursors();
  const [{ data, error, fetching }] = useQuery({
    query: AuditQuery,
    variables: { first: PAGE, after: cursors.after, ...(action ? { action } : {}) },
  });
  const list = data?.adminAuditEvents;
  return (
    <>
      <h1>Admin audit log</h1>
      <p>Every admin change: who, what, before → after.</p>
      <div className="field">
        <label htmlFor="au-action">Action</label>
        <input
          id="au-action"
          type="search"
          placeholder="e.g. user.block"
          value={action}
          onChange={(e) => {
            cursors.reset();
            setAction(e.target.value);
          }}
        />
      </div>
      <ErrorAlert error={error} />
      {fetching && !data ? <p>Loading…</p> : null}
      {list ? (
        <table>
          <caption>Admin changes ({list.totalCount})</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Before → after</th>
            </tr>
          </thead>
          <tbody>
            {list.edges.map(({ node: e }) => (
              <tr key={e.id}>
                <td>{formatDate(e.createdAt)}</td>
                <td>{e.actor}</td>
                <td className="mono">{e.action}</td>
                <td>
                  {e.targetType}
                  {e.targetId ? <span className="mono"> {e.targetId}</span> : null}
                </td>
                <td>
                  <ul>
                    {diff(e.before, e.after).map((d) => (
                      <li key={d.key}>
                        {d.key}: {show(d.from)} → {show(d.to)}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager cursors={cursors} pageInfo={list?.pageInfo} label="Admin changes" />
    </>
  );
}
