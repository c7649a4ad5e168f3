import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { Provider } from 'urql';
import { Link, Redirect, Route, Router, Switch, useLocation } from 'wouter';
import { createClient } from './client.ts';
import { graphql } from './graphql.ts';
import { Activity, Audit } from './pages/activity.tsx';
import { ConnectionPage } from './pages/connection.tsx';
import { ConnectionNew } from './pages/connection-new.tsx';
import { Connections } from './pages/connections.tsx';
import { ContactFields } from './pages/contact-fields.tsx';
import { Licenses } from './pages/licenses.tsx';
import { Mappings } from './pages/mappings.tsx';
import { PreviewPage } from './pages/preview.tsx';
import { Roles } from './pages/roles.tsx';
import { RulesPage } from './pages/rules.tsx';
import { AdminTokens } from './pages/tokens.tsx';
import { UserPage } from './pages/user.tsx';
import { Contacts, Users } from './pages/users.tsx';

const WhoAmI = graphql(`
  query WhoAmI {
    me {
      username
    }
    connections {
      id
    }
  }
`);

type Session =
  | { state: 'signed-out'; problem?: string }
  /** token null: signed in through the IdP (the session cookie). */
  | { state: 'admin'; token: string | null }
  | { state: 'not-admin'; username: string | null };

/**
 * Asks the API who the token belongs to: an admin can list connections; a signed-in user who is no
 * admin is refused them but has a `me`; anything else was not accepted.
 */
async function probe(token: string | null): Promise<Session> {
  const result = await createClient(token).query(WhoAmI, {}, { requestPolicy: 'network-only' }).toPromise();
  if (result.data?.connections) return { state: 'admin', token };
  if (result.data?.me) return { state: 'not-admin', username: result.data.me.username };
  // The API refuses a token it knows to be dead as UNAUTHENTICATED, with the reason.
  const refused = result.error?.graphQLErrors.find((e) => e.extensions?.code === 'UNAUTHENTICATED');
  if (refused) {
    const reason = refused.extensions?.reason;
    return {
      state: 'signed-out',
      problem:
        reason === 'EXPIRED'
          ? 'That session has expired: sign in again.'
          : reason === 'REVOKED'
            ? 'That token was revoked (signed out, or revoked by an admin).'
            : reason === 'USER_BLOCKED'
              ? "That session's user is blocked."
              : 'That token was not accepted: it is not an admin token or a live session.',
    };
  }
  if (result.error?.networkError) {
    return {
      state: 'signed-out',
      problem: `The server could not be reached: ${result.error.networkError.message}`,
    };
  }
  return {
    state: 'signed-out',
    problem: 'That token was not accepted: it is not an admin token or a live session.',
  };
}

function SignIn({ onSession, problem }: { onSession(s: Session): void; problem: string | undefined }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    const session = await probe(token.trim());
    setBusy(false);
    setToken('');
    onSession(session);
  }
  return (
    <main className="narrow">
      <h1>jitprov admin</h1>
      <p>
        Sign in through your IdP — open your connection&apos;s sign-in link (its <code>loginUrl</code>, with{' '}
        <code>relayState=/admin</code>) and you come back here signed in, with the admin role your groups give
        — or paste the bootstrap admin token (ADMIN_TOKEN), a named admin token or an admin&apos;s session
        token.
      </p>
      <p className="hint">
        The token stays in this page&apos;s memory only: reloading or closing the tab signs you out.
      </p>
      {problem ? (
        <div role="alert" className="alert">
          <p>{problem}</p>
        </div>
      ) : null}
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="token">Admin token</label>
          <input
            id="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onChange={(e) => setToken(e.target.value)}
          />
        </div>
        <button type="submit" disabled={busy || !token.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

function NotAdmin({ username, onSignOut }: { username: string | null; onSignOut(): void }) {
  return (
    <main className="narrow">
      <h1>You are not an admin</h1>
      <p role="alert">
        {username ? (
          <>
            You are signed in as <strong>{username}</strong>, but this account has no admin role.
          </>
        ) : (
          'This token does not carry the admin role.'
        )}{' '}
        An admin role comes from the connection&apos;s admin groups, or use the bootstrap admin token.
      </p>
      <button type="button" onClick={onSignOut}>
        Sign in with another token
      </button>
    </main>
  );
}

/** A main-menu link, marked as the current page for screen readers while its section is shown. */
function NavLink({ href, children }: { href: string; children: string }) {
  const [location] = useLocation();
  const current = location === href || location.startsWith(`${href}/`);
  return (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {children}
    </Link>
  );
}

function Shell({ token, onSignOut }: { token: string | null; onSignOut(): void }) {
  const client = useMemo(() => createClient(token), [token]);
  return (
    <Provider value={client}>
      <header className="top">
        <span className="brand">jitprov admin</span>
        <nav aria-label="Main">
          <NavLink href="/connections">Connections</NavLink>
          <NavLink href="/licenses">Licenses</NavLink>
          <NavLink href="/roles">Roles</NavLink>
          <NavLink href="/fields">Contact fields</NavLink>
          <NavLink href="/users">Users</NavLink>
          <NavLink href="/contacts">Contacts</NavLink>
          <NavLink href="/activity">Sign-in events</NavLink>
          <NavLink href="/audit">Audit log</NavLink>
          <NavLink href="/tokens">Admin tokens</NavLink>
        </nav>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        <Switch>
          <Route path="/connections" component={Connections} />
          <Route path="/connections/new" component={ConnectionNew} />
          <Route path="/connections/:id/mappings">{(p) => <Mappings id={decodeURIComponent(p.id)} />}</Route>
          <Route path="/connections/:id/rules">{(p) => <RulesPage id={decodeURIComponent(p.id)} />}</Route>
          <Route path="/connections/:id/preview">
            {(p) => <PreviewPage id={decodeURIComponent(p.id)} />}
          </Route>
          <Route path="/connections/:id">{(p) => <ConnectionPage id={decodeURIComponent(p.id)} />}</Route>
          <Route path="/licenses" component={Licenses} />
          <Route path="/roles" component={Roles} />
          <Route path="/fields" component={ContactFields} />
          <Route path="/users" component={Users} />
          <Route path="/users/:id">{(p) => <UserPage id={decodeURIComponent(p.id)} />}</Route>
          <Route path="/contacts" component={Contacts} />
          <Route path="/activity" component={Activity} />
          <Route path="/audit" component={Audit} />
          <Route path="/tokens" component={AdminTokens} />
          <Route path="/">
            <Redirect to="/connections" />
          </Route>
          <Route>
            <h1>Not found</h1>
            <p>
              No console page here. <Link href="/connections">Back to connections</Link>
            </p>
          </Route>
        </Switch>
      </main>
    </Provider>
  );
}

const SignOut = graphql(`
  mutation SignOut {
    signOut
  }
`);

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  // Signed in through the IdP already? The session cookie answers (a pasted token is never kept).
  useEffect(() => {
    void probe(null).then((s) => setSession(s.state === 'signed-out' ? { state: 'signed-out' } : s));
  }, []);
  const signOut = () => {
    // A cookie session is ended on the server too; a pasted token is just forgotten.
    if (
      session &&
      session.state !== 'signed-out' &&
      (session.state === 'not-admin' || session.token === null)
    ) {
      void createClient(null).mutation(SignOut, {}).toPromise();
    }
    setSession({ state: 'signed-out' });
  };
  if (session === null) return <main className="narrow" aria-busy="true" />;
  return (
    <Router base="/admin">
      {session.state === 'admin' ? (
        <Shell token={session.token} onSignOut={signOut} />
      ) : session.state === 'not-admin' ? (
        <NotAdmin username={session.username} onSignOut={signOut} />
      ) : (
        <SignIn onSession={setSession} problem={session.problem} />
      )}
    </Router>
  );
}
