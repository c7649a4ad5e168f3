import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit } from '../helpers/refusal.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, gql, PUBLIC_URL, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
let idp: TestIdp;
const APP = 'https://app.jitprov.test';

beforeAll(async () => {
  t = await createTestApp({ ALLOWED_REDIRECT_ORIGINS: `${PUBLIC_URL}, ${APP}` });
  idp = await TestIdp.create();
  await createConnection(t.app, idp);
});
afterAll(() => t.close());

/** Posts the form as a browser does (HTML unless `json`), without following redirects. */
async function post(app: Pick<App, 'fetch'>, samlResponse: string, relayState: string | null, json = false) {
  const fields: Record<string, string> = { SAMLResponse: samlResponse };
  if (relayState !== null) fields.RelayState = relayState;
  return app.fetch(
    new Request(`${PUBLIC_URL}/saml/acs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: json ? 'application/json' : 'text/html,application/xhtml+xml',
      },
      body: new URLSearchParams(fields).toString(),
    }),
  );
}

const cookieToken = (res: Response) =>
  /jitprov_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];

describe('after a browser sign-in', () => {
  it('303s to a path on our origin, with the session as an HttpOnly, Secure, SameSite=Lax cookie', async () => {
    const res = await post(t.app, idp.response('r1@contoso.example'), '/dashboard?tab=1');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${PUBLIC_URL}/dashboard?tab=1`);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      /^jitprov_session=jps_[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/,
    );
    const me = await gql<{ me: { username: string } }>(t.app, '{ me { username } }', {}, cookieToken(res)!);
    expect(me.data?.me.username).toBe('r1@contoso.example');
  });

  it('303s to another allowed origin', async () => {
    const res = await post(t.app, idp.response('r2@contoso.example'), `${APP}/home`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`${APP}/home`);
  });

  it('shows the signed-in page, cookie set, when there is no RelayState', async () => {
    for (const relayState of [null, '']) {
      const res = await post(t.app, idp.response(`r3${relayState ?? 'x'}@contoso.example`), relayState);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(cookieToken(res)).toMatch(/^jps_/);
    }
  });

  it('keeps the JSON body for JSON callers, naming the checked target, and sets no cookie', async () => {
    const res = await post(t.app, idp.response('r4@contoso.example'), '/next', true);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      created: true,
      redirectTo: `${PUBLIC_URL}/next`,
      sessionToken: expect.any(String),
    });
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('leaves Secure off the cookie when the service is served over plain http', async () => {
    const plain = await createTestApp({ PUBLIC_URL: 'http://localhost:4000' });
    try {
      const local = await TestIdp.create();
      await createConnection(plain.app, local);
      const response = local.response(
        'r5@contoso.example',
        {},
        {
          audience: 'http://localhost:4000/saml/metadata',
          destination: 'http://localhost:4000/saml/acs',
        },
      );
      const res = await post(plain.app, response, null);
      expect(res.status).toBe(200);
      expect(res.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax$/);
    } finally {
      await plain.close();
    }
  });
});

describe('the samlAcs mutation', () => {
  const SAML_ACS = `mutation($input: SamlAcsInput!) { samlAcs(input: $input) {
    __typename ... on SignInResult { redirectTo } ... on SignInError { code } } }`;

  it('checks relayState the same way and returns the target', async () => {
    const ok = await gql(
      t.app,
      SAML_ACS,
      { input: { samlResponse: idp.response('g1@contoso.example'), relayState: '/x' } },
      null,
    );
    expect(ok.data).toEqual({ samlAcs: { __typename: 'SignInResult', redirectTo: `${PUBLIC_URL}/x` } });
    const bad = await gql(
      t.app,
      SAML_ACS,
      { input: { samlResponse: idp.response('g2@contoso.example'), relayState: '//evil.example' } },
      null,
    );
    expect(bad.data).toEqual({ samlAcs: { __typename: 'SignInError', code: 'SAML_RELAY_STATE_FORBIDDEN' } });
  });
});

describe('never an open redirect: the sign-in is refused before the assertion is used', () => {
  const attempts = [
    'https://evil.example',
    '//evil.example',
    '///evil.example',
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    '/\\evil.example',
    '\\\\evil.example',
    '/\t/evil.example',
    ' /dashboard',
    `${PUBLIC_URL}@evil.example/`,
    `https://user:pass@${new URL(PUBLIC_URL).host}/`,
    `http://${new URL(PUBLIC_URL).host}/`,
    'https:evil.example',
    'data:text/html,<script>alert(1)</script>',
    `https://evil.example/#${PUBLIC_URL}`,
    `${PUBLIC_URL}.evil.example/`,
    'dashboard',
  ];
  for (const relayState of attempts) {
    it(JSON.stringify(relayState), async () => {
      const response = idp.response(`open${attempts.indexOf(relayState)}@contoso.example`);
      await expectRefusedWritingOnlyAudit(
        t,
        async () => {
          const res = await post(t.app, response, relayState, true);
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        },
        'SAML_RELAY_STATE_FORBIDDEN',
      );
      // Not consumed: the same response still signs in without the bad target.
      expect((await post(t.app, response, null, true)).status).toBe(200);
    });
  }

  it('the browser form answers the refusal with a page, not a redirect', async () => {
    const res = await post(t.app, idp.response('open-html@contoso.example'), 'https://evil.example/');
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('SAML_RELAY_STATE_FORBIDDEN');
  });
});
