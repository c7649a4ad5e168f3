/**
 * The admin console (issue 15), the whole admin job in one browser session: create a connection
 * from metadata, add three mappings (a COPY, a plugin transform with parameters, an inline JSONata),
 * see a write-time error for a bad expression, run a preview, sign a person in (the demo IdP signer),
 * find them in Users with their contact filled and licenses granted, block them, and see the
 * provisioning events and the admin audit rows. Real Chromium, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { gql, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  await gql(h.t.app, 'mutation { createLicense(input: { name: "Sales Cloud", seats: 10 }) { __typename } }');
});
afterAll(() => h?.close());

describe('the admin job, start to end', () => {
  it('connects an IdP, maps, previews, provisions, blocks, and shows the trail', async () => {
    const page = await h.page();
    await h.signIn(page, '/connections/new');

    // 1. The connection, from the IdP's metadata.
    await page.getByLabel('…or paste it').fill(idp.metadata());
    await expect.poll(() => page.getByTestId('md-entity-id').textContent()).toBe(idp.entityId);
    await page.getByLabel('Name', { exact: true }).fill('Contoso Entra');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Contoso Entra' }).waitFor();
    await page.getByRole('link', { name: 'Mappings' }).click();
    await page.getByRole('heading', { name: 'Mappings of Contoso Entra' }).waitFor();

    // 2. Three mappings: COPY, a plugin with parameters, an inline JSONata (first refused).
    const rows = page.getByRole('table', { name: 'Attribute mappings' }).locator('tbody tr');
    await page.getByRole('button', { name: 'New mapping' }).click();
    let form = page.getByRole('form', { name: 'New mapping' });
    await form.getByLabel('SAML attribute').fill(EntraClaims.emailAddress);
    await form.getByLabel('Contact field').selectOption('email');
    await form.getByLabel('Required').check();
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect.poll(() => rows.count()).toBe(1);

    await page.getByRole('button', { name: 'New mapping' }).click();
    form = page.getByRole('form', { name: 'New mapping' });
    await form.getByLabel('SAML attribute').fill(EntraClaims.displayName);
    await form.getByLabel('Contact field').selectOption('givenName');
    await form.getByLabel('Kind').selectOption('TRANSFORM');
    await form.getByLabel('Transform').selectOption('display-name');
    await form
      .getByRole('group', { name: 'Parameters of display-name' })
      .getByLabel(/^part/)
      .selectOption('given');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect.poll(() => rows.count()).toBe(2);

    await page.getByRole('button', { name: 'New mapping' }).click();
    form = page.getByRole('form', { name: 'New mapping' });
    await form.getByLabel('SAML attribute').fill(EntraClaims.department);
    await form.getByLabel('Contact field').selectOption('department');
    await form.getByLabel('Kind').selectOption('TRANSFORM');
    await form.getByLabel('Transform').selectOption('expression');
    await form.getByLabel('JSONata expression').fill('$uppercase($value');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect.poll(() => page.getByText('EXPRESSION_INVALID').count()).toBe(1);
    await expect.poll(() => form.locator('[id$="-expression-error"]').count()).toBe(1);
    await form.getByLabel('JSONata expression').fill('$uppercase($value)');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect.poll(() => rows.count()).toBe(3);

    // 3. A preview of what Ada's sign-in would write.
    await page.getByRole('link', { name: '← Contoso Entra' }).click();
    await page.getByRole('link', { name: 'Preview' }).click();
    await page.getByLabel('NameID').fill('ada@contoso.example');
    await page
      .getByLabel('Attributes', { exact: true })
      .fill(
        `${EntraClaims.emailAddress} = ada@contoso.example\n${EntraClaims.displayName} = Ada Lovelace\n${EntraClaims.department} = research`,
      );
    await page.getByRole('button', { name: 'Run preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview for ada@contoso.example' });
    await expect.poll(() => preview.getByRole('row', { name: /^givenName/ }).textContent()).toContain('Ada');
    expect(await preview.getByRole('row', { name: /^department/ }).textContent()).toContain('RESEARCH');

    // 4. Ada signs in through the IdP (the demo IdP signer), and is provisioned.
    const signIn = await postAcs(
      h.t.app,
      idp.response('ada@contoso.example', {
        [EntraClaims.emailAddress]: 'ada@contoso.example',
        [EntraClaims.displayName]: 'Ada Lovelace',
        [EntraClaims.department]: 'research',
      }),
    );
    expect(signIn.status).toBe(200);
    expect(signIn.body.created).toBe(true);

    // 5. Ada in Users: contact filled, license granted; then blocked.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('searchbox', { name: 'Search usernames' }).fill('ada');
    await page.getByRole('link', { name: 'ada@contoso.example' }).click();
    const contact = page.getByRole('table', { name: 'Contact fields' });
    await expect.poll(() => contact.getByRole('row', { name: /^Given name/ }).textContent()).toContain('Ada');
    expect(await contact.getByRole('row', { name: /^Department/ }).textContent()).toContain('RESEARCH');
    expect(await contact.getByRole('row', { name: /^Email/ }).textContent()).toContain('ada@contoso.example');
    expect(await page.getByRole('region', { name: 'Licenses' }).textContent()).toContain('Sales Cloud');
    await page.getByRole('button', { name: 'Block' }).click();
    await page.getByRole('button', { name: 'Unblock' }).waitFor();
    const refused = await postAcs(
      h.t.app,
      idp.response('ada@contoso.example', { [EntraClaims.emailAddress]: 'ada@contoso.example' }),
    );
    expect((refused.body.error as { code: string }).code).toBe('USER_BLOCKED');

    // 6. The trail: her sign-in events (created, then refused) and the admin audit rows.
    await page.getByRole('link', { name: 'Sign-in events of this user' }).click();
    const events = page.getByRole('table', { name: /^Sign-in events/ });
    await expect.poll(() => events.locator('caption').textContent()).toMatch(/\(\d+\)/);
    await page.getByRole('link', { name: 'Sign-in events', exact: true }).click();
    await page.getByLabel('NameID').fill('ada@contoso.example');
    await expect.poll(() => events.locator('caption').textContent()).toBe('Sign-in events (2)');
    const created = events.getByRole('row', { name: /CREATED/ });
    expect(await created.textContent()).toContain('department: ∅ → RESEARCH');
    expect(await created.textContent()).toContain('Sales Cloud');
    expect(await events.getByRole('row', { name: /REJECTED/ }).textContent()).toContain('USER_BLOCKED');
    await page.getByLabel('Outcome').selectOption('REJECTED');
    await expect.poll(() => events.locator('caption').textContent()).toBe('Sign-in events (1)');
    await expectAccessible(page, 'sign-in events');

    await page.getByRole('link', { name: 'Audit log' }).click();
    const audit = page.getByRole('table', { name: /^Admin changes/ });
    await expect.poll(() => audit.getByRole('row', { name: /user\.block/ }).count()).toBe(1);
    expect(await audit.getByRole('row', { name: /user\.block/ }).textContent()).toMatch(
      /status: "?ACTIVE"? → "?BLOCKED"?/i,
    );
    expect(await audit.getByRole('row', { name: /connection\.create/ }).count()).toBe(1);
    expect(await audit.textContent()).not.toContain('test-admin-token');
    await page.getByLabel('Action').fill('user.block');
    await expect.poll(() => audit.locator('caption').textContent()).toBe('Admin changes (1)');
    await expectAccessible(page, 'audit log');
    expect(h.problems).toEqual([]);
  });
});
