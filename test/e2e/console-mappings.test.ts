/**
 * The admin console (issue 15), part 3: a connection's mappings. The ordered list; add a COPY, a
 * plugin transform with its parameter form built from the plugin's JSON Schema, an inline JSONata;
 * write-time refusals next to the field InputError.path names (inside the parameter form too);
 * reorder, edit, remove; the impact check on recent sign-ins, refused and then forced. Real Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { EntraClaims, TestIdp } from '../helpers/idp.js';
import { createConnection } from '../helpers/setup.js';
import { gql, postAcs } from '../helpers/test-app.js';

let h: ConsoleHarness;
let idp: TestIdp;
let connectionId: string;

beforeAll(async () => {
  h = await startConsole();
  idp = await TestIdp.create();
  connectionId = await createConnection(h.t.app, idp);
});
afterAll(() => h?.close());

interface Row {
  attributeName: string | null;
  column: string;
  kind: string;
  plugin: string | null;
  params: unknown;
  required: boolean;
}
async function stored(): Promise<Row[]> {
  const r = await gql<{ attributeMappings: Row[] }>(
    h.t.app,
    'query($id: ID!) { attributeMappings(connectionId: $id) { attributeName column kind plugin params required } }',
    { id: connectionId },
  );
  return r.data?.attributeMappings ?? [];
}

describe('mappings', () => {
  it('adds a COPY, a plugin transform with parameters and an inline JSONata, refusals shown at their field', async () => {
    // A sign-in carrying an attribute no mapping reads: the attribute box will suggest it.
    const seen = await postAcs(
      h.t.app,
      idp.response('seen@contoso.example', { 'urn:example:cost-center': 'CC-42' }),
    );
    expect(seen.status).toBe(200);
    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}/mappings`);
    await page.getByRole('heading', { name: /^Mappings of/ }).waitFor();

    // COPY: the attribute box suggests Entra's claim URIs; the field dropdown comes from contactFields.
    await page.getByRole('button', { name: 'New mapping' }).click();
    let form = page.getByRole('form', { name: 'New mapping' });
    const suggested = await form
      .locator('datalist option')
      .evaluateAll((o) => o.map((x) => [(x as HTMLOptionElement).value, x.textContent ?? '']));
    expect(suggested.map(([v]) => v)).toContain(EntraClaims.givenName);
    // What the IdP sent comes first, with how many recent sign-ins carried it (names only, no values).
    expect(suggested).toContainEqual(['urn:example:cost-center', 'sent in 1 recent sign-in']);
    expect(JSON.stringify(suggested)).not.toContain('CC-42');
    await form.getByLabel('SAML attribute').fill(EntraClaims.givenName);
    await form.getByLabel('Contact field').selectOption('givenName');
    expect(await form.getByLabel('Contact field').locator('option').allTextContents()).toContain(
      'Groups (string_list, list)',
    );
    await expectAccessible(page, 'mappings, new COPY');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect
      .poll(() => page.getByRole('table', { name: 'Attribute mappings' }).locator('tbody tr').count())
      .toBe(1);

    // A plugin transform: its parameters are a form generated from its JSON Schema.
    await page.getByRole('button', { name: 'New mapping' }).click();
    form = page.getByRole('form', { name: 'New mapping' });
    await form.getByLabel('SAML attribute').fill('http://schemas.xmlsoap.org/claims/CommonName');
    await form.getByLabel('Contact field').selectOption('jobTitle');
    await form.getByLabel('Kind').selectOption('TRANSFORM');
    await form.getByLabel('Transform').selectOption('regex-extract');
    const params = form.getByRole('group', { name: 'Parameters of regex-extract' });
    const pattern = params.getByRole('textbox', { name: /^pattern/ });
    await pattern.waitFor();
    // A pattern that backtracks catastrophically: refused when written, shown beside the parameter.
    await pattern.fill('^(a+)+$');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect.poll(() => page.getByText('PATTERN_UNSAFE').count()).toBe(1);
    await expect.poll(() => params.textContent()).toContain('exponential time');
    await expectAccessible(page, 'mappings, plugin form with a refusal');
    await pattern.fill('^CN=([^,]+)');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect
      .poll(() => page.getByRole('table', { name: 'Attribute mappings' }).locator('tbody tr').count())
      .toBe(2);

    // Inline JSONata: a bad expression is refused next to the editor, then fixed.
    await page.getByRole('button', { name: 'New mapping' }).click();
    form = page.getByRole('form', { name: 'New mapping' });
    await form.getByLabel('SAML attribute').fill(EntraClaims.department);
    await form.getByLabel('Contact field').selectOption('department');
    await form.getByLabel('Kind').selectOption('TRANSFORM');
    await form.getByLabel('Transform').selectOption('expression');
    await form.getByLabel('JSONata expression').fill('$uppercase(');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    const exprError = form.locator(`[id$="-expression-error"]`);
    await expect.poll(() => exprError.count()).toBe(1);
    expect(await form.getByLabel('JSONata expression').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('JSONata expression').fill('$uppercase($value)');
    await form.getByRole('button', { name: 'Add mapping' }).click();
    await expect
      .poll(() => page.getByRole('table', { name: 'Attribute mappings' }).locator('tbody tr').count())
      .toBe(3);

    expect(await stored()).toEqual([
      expect.objectContaining({ attributeName: EntraClaims.givenName, column: 'givenName', kind: 'COPY' }),
      expect.objectContaining({
        column: 'jobTitle',
        plugin: 'regex-extract',
        params: expect.objectContaining({ pattern: '^CN=([^,]+)' }),
      }),
      expect.objectContaining({
        column: 'department',
        plugin: 'expression',
        params: { expression: '$uppercase($value)' },
      }),
    ]);
    await expectAccessible(page, 'mappings list');
    expect(h.problems).toEqual([]);
  });

  it('reorders, edits and removes, and checks a change against recent sign-ins before forcing it', async () => {
    // Someone signs in with a given name, so the connection keeps their attributes as a sample.
    const signIn = await postAcs(
      h.t.app,
      idp.response('kim@contoso.example', { [EntraClaims.givenName]: 'Kim' }),
    );
    expect(signIn.status).toBe(200);

    const page = await h.page();
    await h.signIn(page, `/connections/${encodeURIComponent(connectionId)}/mappings`);
    const table = page.getByRole('table', { name: 'Attribute mappings' });
    await table.waitFor();

    await page.getByRole('button', { name: /^Move .* → Department up$/ }).click();
    await expect
      .poll(async () => (await stored()).map((m) => m.column))
      .toEqual(['givenName', 'department', 'jobTitle']);
    await expect.poll(() => table.locator('tbody tr').nth(1).textContent()).toContain('Department');

    // Making the given name required from an attribute nobody sent would refuse Kim: the check says so.
    await page.getByRole('button', { name: /^Edit .* → Given name$/ }).click();
    const form = page.getByRole('form', { name: 'Edit mapping to givenName' });
    await form.getByLabel('SAML attribute').fill('urn:oid:2.5.4.42');
    await form.getByLabel('Required').check();
    await form.getByRole('button', { name: 'Check impact' }).click();
    const impact = form.getByRole('region', { name: 'Impact on recent sign-ins' });
    await expect.poll(() => impact.textContent()).toContain('kim@contoso.example');
    // Both kept samples lack the new attribute: kim, and the sign-in the first test made.
    expect(await impact.textContent()).toMatch(/2\s*would be refused/);
    await form.getByRole('button', { name: 'Save mapping' }).click();
    await expect.poll(() => page.getByText('MAPPING_WOULD_REFUSE').count()).toBe(1);
    expect((await stored())[0]?.required).toBe(false);
    await expectAccessible(page, 'mappings, change refused');
    await form.getByRole('button', { name: 'Save anyway' }).click();
    await expect
      .poll(async () => (await stored())[0])
      .toMatchObject({ attributeName: 'urn:oid:2.5.4.42', required: true });

    await page.getByRole('button', { name: /^Remove .* → Job title$/ }).click();
    await page.getByRole('button', { name: 'Confirm removal' }).click();
    await expect.poll(async () => (await stored()).map((m) => m.column)).toEqual(['givenName', 'department']);
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    expect(h.problems).toEqual([]);
  });
});
