/**
 * The admin console (issue 15), part 6: users and contacts — searchable lists in keyset pages (the
 * search a deep link), a user's page with contact, licenses granted and revoked, block and unblock.
 * Values from the IdP show as text. Real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { gql, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;
const XSS = '<img src=x onerror="window.__xss=1">';

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  const connectionId = await createConnection(h.t.app, idp);
  await addMapping(h.t.app, connectionId, EntraClaims.displayName, 'fullName');
  await addMapping(h.t.app, connectionId, EntraClaims.emailAddress, 'email');
  await gql(h.t.app, 'mutation { createLicense(input: { name: "CRM", seats: 100 }) { __typename } }');
  const people = [
    ['alice@contoso.example', `Alice ${XSS}`],
    ...Array.from({ length: 22 }, (_, i) => [
      `user${String(i).padStart(2, '0')}@contoso.example`,
      `User ${i}`,
    ]),
  ];
  for (const [nameId, name] of people) {
    const r = await postAcs(
      h.t.app,
      idp.response(nameId as string, {
        [EntraClaims.displayName]: name as string,
        [EntraClaims.emailAddress]: nameId as string,
      }),
    );
    expect(r.status).toBe(200);
  }
});
afterAll(() => h?.close());

describe('users and contacts', () => {
  it('lists users in keyset pages and searches them, the search surviving a reload', async () => {
    const page = await h.page();
    await h.signIn(page, '/users');
    const table = page.getByRole('table', { name: /^Users/ });
    await expect.poll(() => table.locator('caption').textContent()).toBe('Users (23)');
    expect(await table.locator('tbody tr').count()).toBe(20);
    // Markup in an IdP value is text.
    expect(await table.getByRole('row', { name: /^alice@/ }).textContent()).toContain(`Alice ${XSS}`);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await expectAccessible(page, 'users');

    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(3);
    expect(await page.getByText('Page 2').count()).toBe(1);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(20);

    await page.getByRole('searchbox', { name: 'Search usernames' }).fill('user1');
    await expect.poll(() => table.locator('caption').textContent()).toBe('Users (10)');
    expect(new URL(page.url()).search).toBe('?q=user1');
    await page.reload();
    await h.signIn(page, '/users?q=user1');
    await expect.poll(() => table.locator('caption').textContent()).toBe('Users (10)');
    expect(await page.getByRole('searchbox', { name: 'Search usernames' }).inputValue()).toBe('user1');

    await page.getByRole('link', { name: 'Contacts', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Search names and emails' }).fill('alice');
    const contacts = page.getByRole('table', { name: /^Contacts/ });
    await expect.poll(() => contacts.locator('caption').textContent()).toBe('Contacts (1)');
    await expectAccessible(page, 'contacts');
    expect(h.problems).toEqual([]);
  });

  it("shows a user's contact and licenses, revokes and grants, blocks and unblocks", async () => {
    const page = await h.page();
    await h.signIn(page, '/users?q=alice');
    await page.getByRole('link', { name: 'alice@contoso.example' }).click();
    await page.getByRole('heading', { name: 'alice@contoso.example' }).waitFor();
    const contact = page.getByRole('table', { name: 'Contact fields' });
    expect(await contact.getByRole('row', { name: /^Email/ }).textContent()).toContain(
      'alice@contoso.example',
    );
    expect(await contact.textContent()).toContain(`Alice ${XSS}`);
    const licenses = page.getByRole('region', { name: 'Licenses' });
    expect(await licenses.textContent()).toContain('CRM');
    await expectAccessible(page, 'user');

    await page.getByRole('button', { name: 'Revoke CRM' }).click();
    await expect.poll(() => licenses.textContent()).toContain('No license.');
    await page.getByLabel('License to grant').selectOption({ label: 'CRM (78 free)' });
    await page.getByRole('button', { name: 'Grant' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Revoke CRM' }).count()).toBe(1);

    await page.getByRole('button', { name: 'Block' }).click();
    await page.getByText('Blocked', { exact: true }).waitFor();
    const refused = await postAcs(h.t.app, idp.response('alice@contoso.example'));
    expect((refused.body.error as { code: string }).code).toBe('USER_BLOCKED');
    await page.getByRole('button', { name: 'Unblock' }).click();
    await page.getByRole('button', { name: 'Block' }).waitFor();
    expect((await postAcs(h.t.app, idp.response('alice@contoso.example'))).status).toBe(200);
    expect(h.problems).toEqual([]);
  });
});
