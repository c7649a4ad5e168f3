/**
 * The admin console (issue 15): roles, custom contact fields, a connection's license and role rules,
 * and what a sign-in then gives — seen on the user's page (roles, typed custom fields, licenses).
 * Refusals (RULE_INVALID at the rule it names, ROLE_BUILTIN, CONTACT_FIELD_IN_USE) in plain words.
 * Real Chromium, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection, createLicense } from '../helpers/setup.js';
import { gql, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;
let connectionId: string;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  connectionId = await createConnection(h.t.app, idp);
  await createLicense(h.t.app, 'CRM', 10);
  await createLicense(h.t.app, 'BI', 10);
  // A first sign-in carrying groups (group rules are checked against a groups attribute seen); with
  // no rules yet it takes a seat of each license.
  expect(
    (await postAcs(h.t.app, idp.response('first@contoso.example', { [EntraClaims.groups]: ['g-other'] })))
      .status,
  ).toBe(200);
});
afterAll(() => h?.close());

describe('roles, contact fields and rules', () => {
  it('makes a role and a typed contact field; refuses removing the built-in admin role', async () => {
    const page = await h.page();
    await h.signIn(page, '/roles');
    await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
    const form = page.getByRole('form', { name: 'New role' });
    await form.getByLabel('Name').fill('sales-manager');
    await form.getByLabel('Description').fill('Approves discounts');
    await form.getByRole('button', { name: 'Create role' }).click();
    const row = page.getByRole('row', { name: /sales-manager/ });
    await row.waitFor();
    await page.getByRole('button', { name: 'Remove admin' }).click();
    await expect.poll(() => page.getByText('ROLE_BUILTIN').count()).toBe(1);
    expect(await page.getByRole('alert').first().textContent()).toContain('built in');
    await expectAccessible(page, 'roles');

    await page.getByRole('link', { name: 'Contact fields' }).click();
    await page.getByRole('heading', { name: 'Contact fields' }).waitFor();
    const fields = page.getByRole('form', { name: 'New contact field' });
    await fields.getByLabel('Name').fill('tier');
    await fields.getByLabel('Label').fill('Customer tier');
    await fields.getByLabel('Type').selectOption('ENUM');
    await fields.getByLabel('Allowed values').fill('gold\nsilver');
    await fields.getByRole('button', { name: 'Add field' }).click();
    const added = page.getByRole('table', { name: 'Fields added by admins' });
    await expect.poll(() => added.textContent()).toContain('ENUM: gold, silver');
    // A bad name is refused next to its field.
    await fields.getByLabel('Name').fill('Not a name!');
    await fields.getByLabel('Label').fill('Bad');
    await fields.getByLabel('Type').selectOption('STRING');
    await fields.getByRole('button', { name: 'Add field' }).click();
    await expect.poll(() => page.locator('#cf-name-error').count()).toBe(1);
    await expectAccessible(page, 'contact fields');
    expect(h.problems).toEqual([]);
  });

  it('writes license and role rules, a refusal at the rule it names; a sign-in then shows them on the user', async () => {
    const m = await addMapping(h.t.app, connectionId, 'urn:example:tier', 'tier');
    expect(m.__typename).toBe('AttributeMapping');
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}`);
    await page.getByRole('link', { name: 'License and role rules' }).click();
    await page.getByRole('heading', { name: /^Rules of/ }).waitFor();

    const lic = page.getByRole('form', { name: 'License rules' });
    await lic.getByRole('button', { name: 'Add license rule' }).click();
    const first = lic.getByRole('listitem', { name: 'License rule 1' });
    await first.getByLabel('License').selectOption({ label: 'CRM (1 / 10)' });
    await first.getByLabel('Who gets it').selectOption('GROUP');
    // Left empty: refused at this rule's group value.
    await lic.getByRole('button', { name: 'Save license rules' }).click();
    await expect.poll(() => first.getByRole('alert').count()).toBeGreaterThan(0);
    expect(await first.getByLabel('Group value').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'rules, refused');
    await first.getByLabel('Group value').fill('g-sales');
    await lic.getByRole('button', { name: 'Add license rule' }).click();
    const second = lic.getByRole('listitem', { name: 'License rule 2' });
    await second.getByLabel('License').selectOption({ label: 'BI (1 / 10)' });
    await second.getByLabel('Who gets it').selectOption('EXPRESSION');
    await second.getByLabel(/Expression/).fill('$attributes.`urn:example:tier`[0] = "gold"');
    await lic.getByRole('button', { name: 'Save license rules' }).click();
    await lic.getByText('Saved.').waitFor();

    const roles = page.getByRole('form', { name: 'Role rules' });
    await roles.getByRole('button', { name: 'Add role rule' }).click();
    const rr = roles.getByRole('listitem', { name: 'Role rule 1' });
    await rr.getByLabel('Group value').fill('g-sales');
    await rr.getByLabel('Role').selectOption({ label: 'sales-manager' });
    await roles.getByRole('button', { name: 'Save role rules' }).click();
    await roles.getByText('Saved.').waitFor();
    await expectAccessible(page, 'rules, saved');

    const stored = await gql<{ node: { licenseRules: unknown[]; roleRules: unknown[] } }>(
      h.t.app,
      'query($id: ID!) { node(id: $id) { ... on IdpConnection { licenseRules { kind groupValue expression license { name } } roleRules { groupValue role { name } } } } }',
      { id: connectionId },
    );
    expect(stored.data?.node).toEqual({
      licenseRules: [
        { kind: 'GROUP', groupValue: 'g-sales', expression: null, license: { name: 'CRM' } },
        {
          kind: 'EXPRESSION',
          groupValue: null,
          expression: '$attributes.`urn:example:tier`[0] = "gold"',
          license: { name: 'BI' },
        },
      ],
      roleRules: [{ groupValue: 'g-sales', role: { name: 'sales-manager' } }],
    });

    // A person in g-sales with tier gold: both licenses, the role, the typed field.
    const res = await postAcs(
      h.t.app,
      idp.response('pat@contoso.example', { [EntraClaims.groups]: ['g-sales'], 'urn:example:tier': 'gold' }),
    );
    expect(res.status).toBe(200);
    const userId = (res.body.user as { id: string }).id;
    await h.signIn(page, `/users/${encodeURIComponent(userId)}`);
    await expect.poll(() => page.getByTestId('user-roles').textContent()).toBe('sales-manager');
    const contact = page.getByRole('table', { name: 'Contact fields' });
    expect(await contact.getByRole('row', { name: /Customer tier/ }).textContent()).toContain('gold');
    expect(await page.getByRole('region', { name: 'Licenses' }).textContent()).toMatch(
      /BI[\s\S]*CRM|CRM[\s\S]*BI/,
    );
    await expectAccessible(page, 'user with roles and custom fields');

    // The field is written by a mapping: removing it is refused, in plain words.
    await h.signIn(page, '/fields');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Remove tier' }).click();
    await expect.poll(() => page.getByText('CONTACT_FIELD_IN_USE', { exact: false }).count()).toBe(1);
    expect(h.problems).toEqual([]);
  });

  it('offers to save group rules anyway when no recent sign-in carried the groups attribute', async () => {
    const other = await TestIdp.create();
    const id = await createConnection(h.t.app, other);
    expect((await postAcs(h.t.app, other.response('nogroups@contoso.example'))).status).toBe(200);
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(id)}/rules`);
    const lic = page.getByRole('form', { name: 'License rules' });
    await lic.getByRole('button', { name: 'Add license rule' }).click();
    const rule = lic.getByRole('listitem', { name: 'License rule 1' });
    await rule.getByLabel('Who gets it').selectOption('GROUP');
    await rule.getByLabel('Group value').fill('g-later');
    await lic.getByRole('button', { name: 'Save license rules' }).click();
    await expect.poll(() => lic.getByText('GROUPS_ATTRIBUTE_NOT_SEEN').count()).toBe(1);
    await expectAccessible(page, 'rules, groups attribute never seen');
    await lic.getByRole('button', { name: 'Save anyway' }).click();
    await lic.getByText('Saved.').waitFor();
    const r = await gql<{ node: { licenseRules: { groupValue: string }[] } }>(
      h.t.app,
      'query($id: ID!) { node(id: $id) { ... on IdpConnection { licenseRules { groupValue } } } }',
      { id },
    );
    expect(r.data?.node.licenseRules).toEqual([{ groupValue: 'g-later' }]);
    expect(h.problems).toEqual([]);
  });
});
