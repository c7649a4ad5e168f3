/**
 * The admin console (issue 15): named admin tokens, a connection's SCIM tokens, and the options for
 * people over time (identity binding, linking, inactivity with its dry run, SCIM). A secret is
 * shown once and kept nowhere in the browser. Real Chromium, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { gql, PUBLIC_URL, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;
let connectionId: string;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  connectionId = await createConnection(h.t.app, idp);
});
afterAll(() => h?.close());

const storage = (page: Awaited<ReturnType<ConsoleHarness['page']>>) =>
  page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));

describe('tokens and people over time', () => {
  it('creates a named admin token shown once, which then works and is revoked', async () => {
    const page = await h.page();
    await h.signIn(page, '/tokens');
    await page.getByRole('heading', { name: 'Admin tokens' }).waitFor();
    const form = page.getByRole('form', { name: 'New admin token' });
    await form.getByLabel('Name').fill('nightly-export');
    await form.getByRole('button', { name: 'Create token' }).click();
    const secretBox = page.getByLabel('token “nightly-export”', { exact: true });
    await expect.poll(() => secretBox.inputValue()).toMatch(/^jpa_/);
    const secret = await secretBox.inputValue();
    expect(await storage(page)).not.toContain(secret);
    await expectAccessible(page, 'admin tokens, secret shown');

    // The token is a working admin credential, audited by its name.
    const me = await gql<{ connections: unknown[] }>(h.t.app, '{ connections { id } }', {}, secret);
    expect(me.data?.connections).toHaveLength(1);

    // Shown once: not after a reload.
    await page.reload();
    await h.signIn(page, '/tokens');
    const row = page.getByRole('row', { name: /nightly-export/ });
    await expect.poll(() => row.textContent()).toContain('Active');
    expect(await page.content()).not.toContain(secret);

    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke nightly-export' }).click();
    await expect.poll(() => row.textContent()).toContain('Revoked');
    const after = await gql(h.t.app, '{ connections { id } }', {}, secret);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(h.problems).toEqual([]);
  });

  it('makes a SCIM token with the Tenant URL, and saves identity binding, linking, inactivity and SCIM options', async () => {
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}`);
    const scim = page.getByRole('region', { name: 'SCIM tokens' });
    await scim.waitFor();
    expect(await scim.textContent()).toContain('SCIM provisioning is off');
    await scim.getByLabel('Token name').fill('entra-provisioning');
    await scim.getByRole('button', { name: 'Create SCIM token' }).click();
    const secretBox = page.getByLabel('SCIM token “entra-provisioning”', { exact: true });
    await expect.poll(() => secretBox.inputValue()).toMatch(/^jpscim_/);
    const secret = await secretBox.inputValue();
    expect(await scim.textContent()).toContain(`Tenant URL: ${PUBLIC_URL}/scim/v2`);
    expect(await storage(page)).not.toContain(secret);
    await expect.poll(() => scim.textContent()).toContain('SCIM provisioning is on');
    // The token works against /scim/v2.
    const users = await h.t.app.fetch(
      new Request(`${PUBLIC_URL}/scim/v2/Users`, { headers: { authorization: `Bearer ${secret}` } }),
    );
    expect(users.status).toBe(200);
    await expectAccessible(page, 'connection, SCIM token shown');

    // People over time: bind by Entra's object id, link by email, block and free seats after 30 days.
    await page.getByLabel('Bind users by').selectOption('ATTRIBUTE');
    await page
      .getByLabel('Identity attribute')
      .fill('http://schemas.microsoft.com/identity/claims/objectidentifier');
    await page.getByLabel('Link a first sign-in to an existing user by').selectOption('EMAIL');
    await page.getByLabel('Act on users inactive for (days)').fill('30');
    await page.getByLabel('What to do with them').selectOption('BLOCK');
    await page.getByLabel('When SCIM deactivates or deletes a user').selectOption('BLOCK');
    await page.getByRole('button', { name: 'Save options' }).click();
    await page.getByText('Saved.').waitFor();
    const r = await gql<{ node: Record<string, unknown> }>(
      h.t.app,
      'query($id: ID!) { node(id: $id) { ... on IdpConnection { identityKey identityKeyAttribute linkPolicy inactivityDays inactivityAction scimEnabled scimDeprovision } } }',
      { id: connectionId },
    );
    expect(r.data?.node).toEqual({
      identityKey: 'ATTRIBUTE',
      identityKeyAttribute: 'http://schemas.microsoft.com/identity/claims/objectidentifier',
      linkPolicy: 'EMAIL',
      inactivityDays: 30,
      inactivityAction: 'BLOCK',
      scimEnabled: true,
      scimDeprovision: 'BLOCK',
    });
    await expectAccessible(page, 'connection, options for people over time');

    // A refused option shows next to its field.
    await page.getByLabel('Act on users inactive for (days)').fill('99999');
    await page.getByRole('button', { name: 'Save options' }).click();
    await expect.poll(() => page.locator('#conn-inactivity-days-error').count()).toBe(1);
    expect(h.problems).toEqual([]);
  });

  it('shows who the inactivity policy would act on, and runs it', async () => {
    const other = await TestIdp.create();
    const id = await createConnection(h.t.app, other, { inactivityDays: 1 });
    const user = 'sleepy@contoso.example';
    expect((await postAcs(h.t.app, other.response(user))).status).toBe(200);
    await h.t.sql(`update app_user set last_login_at = now() - interval '3 days' where username = $1`, [
      user,
    ]);
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(id)}`);
    const region = page.getByRole('region', { name: 'Inactive for 1 days or more' });
    const row = region.getByRole('row', { name: new RegExp(user) });
    await expect.poll(() => row.textContent()).toContain('yes');
    await expectAccessible(page, 'connection, inactivity dry run');
    page.once('dialog', (d) => void d.accept());
    await region.getByRole('button', { name: 'Run the policy now' }).click();
    await expect.poll(() => region.textContent()).toMatch(/Done: 1 blocked/);
    const [u] = await h.t.sql<{ status: string }>('select status from app_user where username = $1', [user]);
    expect(u?.status).toBe('BLOCKED');
    expect(h.problems).toEqual([]);
  });
});
