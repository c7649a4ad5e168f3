/**
 * The admin console (issue 15), part 4: previewMappings on pasted sample attributes and on recent
 * sign-ins — per field before, after, which mapping, each error; an IdP value with markup in it shows
 * as text. Real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;
let connectionId: string;
const XSS = '<img src=x onerror="window.__xss=1">';

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  connectionId = await createConnection(h.t.app, idp);
  await addMapping(h.t.app, connectionId, EntraClaims.givenName, 'givenName');
  await addMapping(h.t.app, connectionId, EntraClaims.emailAddress, 'email', true);
  await addMapping(h.t.app, connectionId, EntraClaims.department, 'department', false, {
    kind: 'TRANSFORM',
    plugin: 'expression',
    params: { expression: '$uppercase($value)' },
  });
});
afterAll(() => h?.close());

describe('preview', () => {
  it('shows per field what a sample sign-in would write, markup from the IdP as text', async () => {
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}/preview`);
    await page.getByRole('heading', { name: /^Preview mappings/ }).waitFor();
    await page.getByLabel('NameID').fill('ada@contoso.example');
    await page
      .getByLabel('Attributes', { exact: true })
      .fill(
        `${EntraClaims.givenName} = ${XSS}\n${EntraClaims.emailAddress} = ada@contoso.example\n${EntraClaims.department} = sales`,
      );
    await page.getByRole('button', { name: 'Run preview' }).click();
    const result = page.getByRole('region', { name: 'Preview for ada@contoso.example' });
    await result.waitFor();
    expect(await result.textContent()).toContain('would be accepted (new user)');
    const given = result.getByRole('row', { name: /^givenName/ });
    expect(await given.textContent()).toContain(XSS);
    expect(await result.getByRole('row', { name: /^department/ }).textContent()).toContain('SALES');
    expect(await result.getByRole('row', { name: /^department/ }).textContent()).toContain('inline JSONata');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await expectAccessible(page, 'preview');

    // Without the required email: refused, and the row says why.
    await page.getByLabel('Attributes', { exact: true }).fill(`${EntraClaims.givenName} = Ada`);
    await page.getByRole('button', { name: 'Run preview' }).click();
    await expect.poll(() => result.textContent()).toContain('would be refused');
    expect(await result.getByRole('row', { name: /^email/ }).textContent()).toContain(
      'REQUIRED_ATTRIBUTE_MISSING',
    );
    expect(h.problems).toEqual([]);
  });

  it('runs on the recent sign-ins the connection keeps', async () => {
    const signIn = await postAcs(
      h.t.app,
      idp.response('kim@contoso.example', {
        [EntraClaims.givenName]: 'Kim',
        [EntraClaims.emailAddress]: 'kim@contoso.example',
        [EntraClaims.department]: 'finance',
      }),
    );
    expect(signIn.status).toBe(200);
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}/preview`);
    await page.getByLabel('Recent sign-ins (their kept attributes)').check();
    await page.getByLabel('How many recent sign-ins').fill('5');
    await page.getByRole('button', { name: 'Run preview' }).click();
    const result = page.getByRole('region', { name: 'Preview for kim@contoso.example' });
    await result.waitFor();
    expect(await result.textContent()).toContain('existing user');
    const dept = result.getByRole('row', { name: /^department/ });
    expect(await dept.textContent()).toContain('FINANCE');
    await expectAccessible(page, 'preview, recent sign-ins');
    expect(h.problems).toEqual([]);
  });
});
