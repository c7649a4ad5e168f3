/**
 * The admin console (issue 15), part 5: licenses — seats used / total, create, change seats with the
 * API's LICENSE_SEATS_IN_USE refusal shown in plain words, deactivate. Real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { gql, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  await createConnection(h.t.app, idp);
});
afterAll(() => h?.close());

async function license(name: string) {
  const r = await gql<{
    licenses: { edges: { node: { name: string; seats: number | null; used: number; active: boolean } }[] };
  }>(h.t.app, '{ licenses(first: 50) { edges { node { name seats used active } } } }');
  return r.data?.licenses.edges.map((e) => e.node).find((l) => l.name === name);
}

describe('licenses', () => {
  it('creates a license, shows seats used, refuses a limit below them plainly, deactivates', async () => {
    const page = await h.page();
    await h.signIn(page, '/licenses');
    await page.getByRole('heading', { name: 'Licenses', exact: true }).waitFor();
    const form = page.getByRole('form', { name: 'New license' });
    await form.getByLabel('Name').fill('CRM');
    await form.getByLabel('Seats').fill('2');
    await form.getByRole('button', { name: 'Create license' }).click();
    const row = page.getByRole('row', { name: /^CRM/ });
    await expect.poll(() => row.textContent()).toContain('0 / 2');
    expect(await license('CRM')).toMatchObject({ seats: 2, used: 0, active: true });

    // The same name again: refused next to the name.
    await form.getByLabel('Name').fill('CRM');
    await form.getByRole('button', { name: 'Create license' }).click();
    await expect.poll(() => form.locator('#new-lic-name-error').count()).toBe(1);
    await expectAccessible(page, 'licenses, create refused');

    // Two people sign in and take both seats.
    for (const who of ['a@contoso.example', 'b@contoso.example']) {
      expect((await postAcs(h.t.app, idp.response(who))).status).toBe(200);
    }
    await page.reload();
    await h.signIn(page, '/licenses');
    await expect.poll(() => row.textContent()).toContain('2 / 2');
    expect(await row.textContent()).toContain('Full');

    await row.getByLabel('Seats of CRM').fill('1');
    await row.getByRole('button', { name: 'Save seats' }).click();
    const refusal = row.getByRole('alert');
    await expect.poll(() => refusal.textContent()).toContain('2 seats of “CRM” are in use');
    expect(await refusal.textContent()).toContain('LICENSE_SEATS_IN_USE');
    expect(await row.getByLabel('Seats of CRM').getAttribute('aria-invalid')).toBe('true');
    expect(await license('CRM')).toMatchObject({ seats: 2 });
    await expectAccessible(page, 'licenses, seats refused');

    await row.getByLabel('Seats of CRM').fill('5');
    await row.getByRole('button', { name: 'Save seats' }).click();
    await expect.poll(() => row.textContent()).toContain('2 / 5');

    await row.getByRole('button', { name: 'Deactivate CRM' }).click();
    await expect.poll(() => row.textContent()).toContain('Inactive');
    expect(await license('CRM')).toMatchObject({ seats: 5, used: 2, active: false });
    expect(h.problems).toEqual([]);
  });
});
