import { graphql, type ResultOf } from '../graphql.ts';

export const ImpactFields = graphql(`
  fragment ImpactFields on MappingImpact {
    available
    sampled
    partial
    wouldRefuse
    wouldAccept
    changes {
      column
      people
    }
    refusals {
      nameId
      code
      column
      message
    }
  }
`);

export type Impact = ResultOf<typeof ImpactFields>;

/** What a mapping change would do to the people who signed in lately (nothing written). */
export function ImpactView({ impact, title }: { impact: Impact; title: string }) {
  return (
    <section aria-label={title} className="card">
      <h3>{title}</h3>
      <p>
        Checked against {impact.sampled} of {impact.available} recent sign-ins
        {impact.partial ? ' (stopped at its time budget)' : ''}: <strong>{impact.wouldRefuse}</strong> would
        be refused who sign in fine now, {impact.wouldAccept} would be accepted who are refused now.
      </p>
      {impact.changes.length ? (
        <ul>
          {impact.changes.map((c) => (
            <li key={c.column}>
              {c.column}: {c.people} {c.people === 1 ? 'person gets' : 'people get'} another value
            </li>
          ))}
        </ul>
      ) : (
        <p>No column would get another value.</p>
      )}
      {impact.refusals.length ? (
        <table>
          <caption>People it would refuse</caption>
          <thead>
            <tr>
              <th scope="col">NameID</th>
              <th scope="col">Code</th>
              <th scope="col">Column</th>
              <th scope="col">Why</th>
            </tr>
          </thead>
          <tbody>
            {impact.refusals.map((r) => (
              <tr key={`${r.nameId} ${r.code} ${r.column ?? ''}`}>
                <td>{r.nameId}</td>
                <td>{r.code}</td>
                <td>{r.column ?? '—'}</td>
                <td>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
