/**
 * The admin console (issue 15), part 2: connections. Create one from pasted or uploaded federation
 * metadata (what was read shown before saving), refusals next to the field they name, options
 * edited, certificates with their expiry badge, a rollover, our SP metadata URL. Real Chromium.
 */
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdpKeyPair } from '../../scripts/demo-idp/index.js';
import { type ConsoleHarness, expectAccessible, startConsole } from '../helpers/console.js';
import { TestIdp } from '../helpers/idp.js';
import { gql } from '../helpers/test-app.js';

let h: ConsoleHarness;

beforeAll(async () => {
  h = await startConsole();
});
afterAll(() => h?.close());

const fingerprintOf = (certPem: string) => new X509Certificate(certPem).fingerprint256;

describe('connections', () => {
  it('creates a connection from pasted metadata, showing what it read before saving', async () => {
    const idp = await TestIdp.create();
    const page = await h.page();
    await h.signIn(page);
    await page.getByRole('link', { name: 'New connection' }).click();
    await page.getByRole('heading', { name: 'New connection' }).waitFor();

    await page.getByLabel('…or paste it').fill('<not xml');
    await expect.poll(() => page.locator('#md-xml-error').textContent()).toContain('not well-formed XML');

    await page.getByLabel('…or paste it').fill(idp.metadata());
    const read = page.getByRole('region', { name: 'Read from the metadata' });
    await read.waitFor();
    expect(await page.getByTestId('md-entity-id').textContent()).toBe(idp.entityId);
    const tenant = idp.entityId.split('/')[3];
    expect(await read.textContent()).toContain(`https://login.microsoftonline.com/${tenant}/saml2`);
    // Before saving: the server's reading of the certificates, with subject, expiry and badge.
    const pinned = page.getByRole('table', { name: 'Signing certificates that will be pinned' });
    await expect.poll(() => pinned.textContent()).toContain('Microsoft Azure Federated SSO Certificate');
    expect(await pinned.textContent()).toContain(fingerprintOf(idp.key.certPem));
    expect(await pinned.textContent()).toContain('Valid');
    await expectAccessible(page, 'new connection');

    await page.getByLabel('Name', { exact: true }).fill('Contoso');
    await page.getByLabel('Admin groups').fill('admins-group-id\nsecond-admins');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Contoso' }).waitFor();

    const certs = page.getByRole('table', { name: 'Signing certificates', exact: true });
    expect(await certs.textContent()).toContain('Microsoft Azure Federated SSO Certificate');
    expect(await certs.textContent()).toContain('Valid');
    const r = await gql<{ connections: { name: string; entityId: string; adminGroups: string[] }[] }>(
      h.t.app,
      '{ connections { name entityId adminGroups } }',
    );
    expect(r.data?.connections).toContainEqual({
      name: 'Contoso',
      entityId: idp.entityId,
      adminGroups: ['admins-group-id', 'second-admins'],
    });
    expect(h.problems).toEqual([]);
  });

  it("shows the API's refusal next to the field it names", async () => {
    const idp = await TestIdp.create();
    // A metadata document that parses but names no signing certificate: the server refuses it.
    const noCert = idp.metadata().replace(/<KeyDescriptor[\s\S]*?<\/KeyDescriptor>/g, '');
    const page = await h.page();
    await h.signIn(page, '/connections/new');
    await page.getByLabel('…or paste it').fill(noCert);
    // The server's refusal shows before saving too.
    await expect
      .poll(() => page.getByTestId('md-refusal').textContent())
      .toContain('METADATA_NO_SIGNING_KEY');
    await page.getByLabel('Name', { exact: true }).fill('No key');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await expect.poll(() => page.locator('#md-xml-error').textContent()).toMatch(/certificate/i);
    expect(await page.getByRole('alert').first().textContent()).toBeTruthy();
    // Once in the preview's reading, once in the refusal of the save.
    expect(await page.getByText('METADATA_NO_SIGNING_KEY').count()).toBe(2);
    expect(await page.getByLabel('…or paste it').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'new connection, refused');
  });

  it('creates from an uploaded file, edits options, badges an expiring certificate and re-pins on rollover', async () => {
    const idp = await TestIdp.create();
    const page = await h.page();
    await h.signIn(page, '/connections/new');
    await page.getByLabel("Upload the IdP's federation metadata (XML)").setInputFiles({
      name: 'federationmetadata.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(idp.metadata()),
    });
    await expect.poll(() => page.getByTestId('md-entity-id').textContent()).toBe(idp.entityId);
    await page.getByLabel('Name', { exact: true }).fill('Fabrikam');
    await page.getByRole('button', { name: 'Create connection' }).click();
    await page.getByRole('heading', { name: 'Fabrikam' }).waitFor();
    const detailUrl = page.url();

    // Options: saved through updateConnection, read back from the API.
    await page.getByLabel('Refresh contact on every sign-in').check();
    await page.getByLabel('Allow IdP-initiated sign-in').uncheck();
    await page.getByLabel('NameID format').selectOption({ label: 'Email address' });
    await page.getByLabel('Clock skew (seconds)').fill('120');
    await page.getByLabel('Recent sign-ins kept').fill('50');
    await page.getByRole('button', { name: 'Save options' }).click();
    await page.getByText('Saved.').waitFor();
    const r = await gql<{ connections: Record<string, unknown>[] }>(
      h.t.app,
      '{ connections { name refreshOnLogin idpInitiatedAllowed nameIdFormat clockSkewSeconds sampleSize allowSha1 } }',
    );
    expect(r.data?.connections).toContainEqual({
      name: 'Fabrikam',
      refreshOnLogin: true,
      idpInitiatedAllowed: false,
      nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
      clockSkewSeconds: 120,
      sampleSize: 50,
      allowSha1: false,
    });

    // A refused option shows next to its field.
    await page.getByLabel('Clock skew (seconds)').fill('9999');
    await page.getByRole('button', { name: 'Save options' }).click();
    await expect.poll(() => page.locator('#conn-skew-error').count()).toBe(1);

    // Rollover: the IdP's metadata now lists a certificate that expires in 10 days, and a stale one.
    const next = await generateIdpKeyPair({ commonName: 'Rollover cert', days: 10 });
    const stale = await generate([{ name: 'commonName', value: 'Stale cert' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 400 * 86_400_000),
      notAfterDate: new Date(Date.now() - 35 * 86_400_000),
    });
    await page.getByLabel('Current federation metadata').fill(idp.metadata([next.certPem, stale.cert]));
    // Badged before it is saved.
    const coming = page.getByRole('table', { name: 'Signing certificates that will be pinned' });
    await expect.poll(() => coming.locator('tbody tr').count()).toBe(3);
    expect(await coming.locator('tbody tr', { hasText: 'Rollover cert' }).textContent()).toMatch(
      /Expires in (9|10) days/,
    );
    expect(await coming.locator('tbody tr', { hasText: 'Stale cert' }).textContent()).toContain('Expired');
    await page.getByRole('button', { name: 'Re-pin certificates' }).click();
    const certs = page.getByRole('table', { name: 'Signing certificates', exact: true });
    await expect.poll(() => certs.locator('tbody tr').count()).toBe(3);
    const row = certs.locator('tbody tr', { hasText: 'Rollover cert' });
    expect(await row.textContent()).toMatch(/Expires in (9|10) days/);
    expect(await row.textContent()).toContain(fingerprintOf(next.certPem));
    expect(await certs.locator('tbody tr', { hasText: 'Stale cert' }).textContent()).toContain('Expired');
    expect(await certs.locator('tbody tr', { hasText: 'Microsoft Azure' }).textContent()).toContain('Valid');

    // The list badges the connection by its worst certificate, and counts those needing attention.
    await page.getByRole('link', { name: '← Connections' }).click();
    const listRow = page.getByRole('row', { name: /Fabrikam/ });
    await expect.poll(() => listRow.textContent()).toContain('Expired (2 need attention)');

    // Our SP metadata: the URL to give the IdP and a download link; the test sign-in opens a new tab.
    await page.goto(detailUrl);
    await h.signIn(page, new URL(detailUrl).pathname.replace(/^\/admin/, ''));
    await page.getByRole('heading', { name: 'Fabrikam' }).waitFor();
    expect(await page.getByLabel('SP metadata URL').inputValue()).toBe(`${h.base}/saml/metadata`);
    const download = page.getByRole('link', { name: 'Download SP metadata' });
    expect(await download.getAttribute('href')).toBe('/saml/metadata');
    expect(await download.getAttribute('download')).toBe('jitprov-sp-metadata.xml');
    const test = page.getByRole('link', { name: 'Test sign-in (new tab)' });
    expect(await test.getAttribute('target')).toBe('_blank');
    expect(await test.getAttribute('href')).toMatch(/\/saml\/login\?connection=/);
    await expectAccessible(page, 'connection');
    expect(h.problems).toEqual([]);
  });
});
