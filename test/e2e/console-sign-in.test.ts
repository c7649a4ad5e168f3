/**
 * The admin console (issue 15), part 1: served at /admin with a strict CSP, signed into with a
 * pasted token kept in memory only, a clear page for a token without the admin role. Real Chromium,
 * real PostgreSQL, the app behind a real HTTP server on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_HEADERS } from '../../src/http/console.js';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { ADMIN_TOKEN, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  await createConnection(h.t.app, idp);
});
afterAll(() => h?.close());

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

describe('GET /admin', () => {
  it('serves the console with a strict CSP and no framing, on every page and asset', async () => {
    expect(CONSOLE_HEADERS['content-security-policy']).toBe(CSP);
    const index = await fetch(`${h.base}/admin`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await index.text();
    // No inline script: every <script> names a same-origin file.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const asset = /src="(\/admin\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
    expect(asset).toBeTruthy();
    for (const path of ['/admin', '/admin/', '/admin/connections/abc', asset]) {
      const r = await fetch(`${h.base}${path}`);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-security-policy'), path).toBe(CSP);
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    const head = await fetch(`${h.base}/admin/users`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toBe(CSP);
    const js = await fetch(`${h.base}${asset}`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it('serves nothing outside the built console', async () => {
    for (const path of ['/admin/assets/..%2f..%2fpackage.json', '/admin/assets/%2e%2e/%2e%2e/package.json']) {
      const r = await fetch(`${h.base}${path}`);
      expect(await r.text(), path).not.toContain('"name": "jitprov"');
    }
    expect((await fetch(`${h.base}/admin/assets/missing.js`)).status).toBe(404);
  });
});

describe('signing in', () => {
  it('refuses a wrong token plainly and accepts the admin token, which it keeps in memory only', async () => {
    const page = await h.page();
    await page.goto('/admin/connections');
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That token was not accepted');
    // The API answers a token it does not know with 401 UNAUTHENTICATED; Chromium logs that answer.
    const refusal = h.problems.findIndex((p) => p.includes('status of 401'));
    expect(refusal).toBeGreaterThanOrEqual(0);
    h.problems.splice(refusal, 1);

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/connections');
    await expect.poll(() => page.getByRole('link', { name: `IdP ${idp.entityId}` }).count()).toBe(1);
    await expectAccessible(page, 'connections');

    const stored = await page.evaluate(() => ({
      local: JSON.stringify(localStorage),
      session: JSON.stringify(sessionStorage),
      cookie: document.cookie,
    }));
    expect(stored).toEqual({ local: '{}', session: '{}', cookie: '' });
    expect(await page.content()).not.toContain(ADMIN_TOKEN);

    // In memory only: a reload signs the admin out, on the same deep link.
    await page.reload();
    await page.getByLabel('Admin token').waitFor();
    expect(new URL(page.url()).pathname).toBe('/admin/connections');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();

    // Keyboard only: Tab to the token box, type, Enter; then Tab through the main menu.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('token');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connections' }).waitFor();
    expect(await page.getByRole('link', { name: 'Connections' }).first().getAttribute('aria-current')).toBe(
      'page',
    );
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Connections');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Licenses', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: 'Licenses' }).getAttribute('aria-current')).toBe('page');
    expect(h.problems).toEqual([]);
  });

  it('tells a signed-in user without the admin role so, showing their name as text', async () => {
    // A NameID with markup in it: the page must show it, not run it.
    const nameId = '<img src=x onerror="window.__xss=1">@contoso.example';
    const signIn = await postAcs(h.t.app, idp.response(nameId));
    expect(signIn.status).toBe(200);
    const token = signIn.body.sessionToken as string;

    const page = await h.page();
    await page.goto('/admin');
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'You are not an admin' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain(`You are signed in as ${nameId}`);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    await expectAccessible(page, 'not an admin');
    expect(h.problems).toEqual([]);
  });
});

describe('signing in through the IdP', () => {
  it('a SAML sign-in of a member of the admin groups opens the console with its session cookie; signing out ends it', async () => {
    const own = await startConsole({}, { publicUrlIsServer: true });
    try {
      const ownIdp = await TestIdp.create();
      await createConnection(own.t.app, ownIdp, { adminGroups: ['jitprov-admins'] });
      const page = await own.page();
      const response = ownIdp.response(
        'ada.admin@contoso.example',
        { 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups': ['jitprov-admins'] },
        { audience: `${own.base}/saml/metadata`, destination: `${own.base}/saml/acs` },
      );
      // The browser's own POST to the ACS (the IdP's HTTP-POST binding): the cookie lands in this context.
      const acs = await page.context().request.post(`${own.base}/saml/acs`, {
        form: { SAMLResponse: response, RelayState: `${own.base}/admin` },
        maxRedirects: 0,
      });
      expect(acs.status()).toBe(303);
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === 'jitprov_session')).toMatchObject({
        httpOnly: true,
        sameSite: 'Lax',
      });

      await page.goto('/admin/connections');
      await page.getByRole('heading', { name: 'Connections' }).waitFor();
      // The page cannot read the session: it is HttpOnly, and nothing is stored.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Admin token').waitFor();
      await expect
        .poll(
          async () =>
            (
              await own.t.sql<{ n: string }>(
                `select count(*) as n from user_session where revoked_at is null`,
              )
            )[0]!.n,
        )
        .toBe('0');
      await page.reload();
      await page.getByLabel('Admin token').waitFor();
      expect(own.problems).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
