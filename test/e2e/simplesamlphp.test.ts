/**
 * A real IdP, end to end (issue 4): Debian's SimpleSAMLphp as the IdP under `php -S`, jitprov as a real
 * process on PostgreSQL, and headless Chromium signing people in as they would by hand. Everything
 * binds to 127.0.0.1 and is stopped in afterAll, also when a step fails.
 *
 * Needs the packages `scripts/e2e-setup.sh` installs; JITPROV_E2E=0 skips it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import pg from 'pg';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdpKeyPair } from '../../scripts/demo-idp/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const ARTIFACTS = path.join(HERE, 'artifacts');
const SSP_WWW = '/usr/share/simplesamlphp/www';
const CHROMIUM = '/usr/bin/chromium';
// The flags that work on this kind of machine: without the background-networking ones Chromium keeps
// dialling Google's hosts, which the closed network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ADMIN_TOKEN = `e2e-admin-${randomBytes(16).toString('hex')}`;

const CLAIM = {
  givenName: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  surname: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  email: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  displayName: 'http://schemas.microsoft.com/identity/claims/displayname',
  groups: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
} as const;
const MAPPINGS: [claim: string, column: string][] = [
  [CLAIM.givenName, 'givenName'],
  [CLAIM.surname, 'surname'],
  [CLAIM.email, 'email'],
  [CLAIM.displayName, 'fullName'],
  [CLAIM.groups, 'groups'],
];

interface Person {
  username: string;
  password: string;
  email: string;
  givenName: string;
  surname: string;
  fullName: string;
  groups: string[];
}
// Non-ASCII in every name part (Latin diacritics and CJK), so any lost or double encoding on the way
// (PHP → XML → base64 form post → node-saml → PostgreSQL) shows as a mismatch.
const ZOE: Person = {
  username: 'zoe',
  password: 'zoe-pass-Ω',
  email: 'zoe.angstrom@contoso.example',
  givenName: 'Zoë',
  surname: 'Ångström',
  fullName: 'Zoë Ångström',
  groups: ['sales'],
};
const YAMADA: Person = {
  username: 'yamada',
  password: 'yamada-pass',
  email: 'hanako.yamada@contoso.example',
  givenName: '花子',
  surname: '山田',
  fullName: '山田 花子',
  groups: ['sales', 'emea', 'admins', '営業部'],
};

const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const SAML_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const NAMEID_EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const ATTRNAME_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

// Worst case, all bounds hit: 40 s start-up + 3 × 20 s cases + 15 s clean-up, under two minutes.
const START_TIMEOUT_MS = 40_000;
const CASE_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

const skip = process.env.JITPROV_E2E === '0';
if (skip) console.warn('test/e2e/simplesamlphp.test.ts skipped: JITPROV_E2E=0');

// ---------------------------------------------------------------------------------------------------
// Processes and the database

/**
 * A fresh database for the jitprov process, dropped at the end. Not test/helpers' createTestDatabase:
 * that module loads the whole app in process, and this test talks to jitprov only over HTTP.
 */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `jitprov_e2e_${randomBytes(6).toString('hex')}`;
  const onBase = async (statement: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await onBase(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => onBase(`drop database if exists ${name} with (force)`) };
}

/** A port that was free a moment ago; the server that takes it binds it right after. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
}

/** Starts a child with its output in an artifacts log, so a failed run can be read afterwards. */
function start(name: string, command: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
  const log = path.join(ARTIFACTS, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, log, exited } satisfies Proc;
}

/** SIGTERM (jitprov closes its pool on it), then SIGKILL after a grace period. */
async function stop(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const grace = setTimeout(() => proc.child.kill('SIGKILL'), 4_000);
  await proc.exited;
  clearTimeout(grace);
}

/** Polls `url` until it answers 200, failing early (with the log's name) if the process dies. */
async function waitUntilUp(proc: Proc, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void proc.exited.then(() => {
    died = true;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (died) throw new Error(`${proc.name} exited during start-up; see ${proc.log}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${proc.name} not up at ${url} after ${timeoutMs} ms (${last}); see ${proc.log}`);
}

/** Fails with the one instruction that fixes it, rather than a timeout somewhere further on. */
function checkPrerequisites(): void {
  const missing: string[] = [];
  if (!existsSync(path.join(SSP_WWW, '_include.php'))) missing.push('simplesamlphp');
  if (!existsSync(CHROMIUM)) missing.push('chromium');
  try {
    const modules = execFileSync('php', ['-m'], { encoding: 'utf8' }).split('\n');
    for (const [ext, pkg] of [
      ['dom', 'php-xml'],
      ['mbstring', 'php-mbstring'],
    ]) {
      if (!modules.includes(ext!)) missing.push(pkg!);
    }
  } catch {
    missing.push('php-cli');
  }
  if (missing.length > 0) {
    throw new Error(`the e2e test needs ${missing.join(', ')}: run scripts/e2e-setup.sh`);
  }
}

// ---------------------------------------------------------------------------------------------------
// SimpleSAMLphp configuration

type PhpValue = string | number | boolean | null | PhpValue[] | { [key: string]: PhpValue };

/** A PHP literal for a JSON-like value; strings single-quoted so `$` and `\n` stay literal text. */
function php(value: PhpValue, indent = ''): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const inner = `${indent}  `;
  const items = Array.isArray(value)
    ? value.map((v) => `${inner}${php(v, inner)},`)
    : Object.entries(value).map(([k, v]) => `${inner}${php(k)} => ${php(v, inner)},`);
  return items.length === 0 ? '[]' : `[\n${items.join('\n')}\n${indent}]`;
}

const phpFile = (variable: string, value: PhpValue) => `<?php\n${variable} = ${php(value)};\n`;

function personAttributes(p: Person): PhpValue {
  return {
    [CLAIM.givenName]: [p.givenName],
    [CLAIM.surname]: [p.surname],
    [CLAIM.email]: [p.email],
    [CLAIM.displayName]: [p.fullName],
    [CLAIM.groups]: p.groups,
  };
}

/** Writes a complete SimpleSAMLphp config dir (config, auth sources, metadata, key) for one IdP. */
function writeSspConfig(dir: string, o: { baseUrl: string; idpEntityId: string; sp: SpMetadata }) {
  for (const sub of ['config/metadata', 'cert', 'data', 'tmp', 'log', 'sessions']) {
    mkdirSync(path.join(dir, sub), { recursive: true });
  }
  const config = path.join(dir, 'config');
  writeFileSync(
    path.join(config, 'config.php'),
    phpFile('$config', {
      // The full URL, so SimpleSAMLphp builds its links and endpoints for this port, not for Apache's.
      baseurlpath: `${o.baseUrl}/`,
      certdir: path.join(dir, 'cert/'),
      metadatadir: path.join(config, 'metadata/'),
      datadir: path.join(dir, 'data/'),
      tempdir: path.join(dir, 'tmp/'),
      loggingdir: path.join(dir, 'log/'),
      'logging.handler': 'stderr',
      'logging.level': 6, // LOG_INFO: every SSO step, into the php log artifact.
      timezone: 'UTC',
      secretsalt: randomBytes(16).toString('hex'),
      'auth.adminpassword': randomBytes(16).toString('hex'),
      'admin.checkforupdates': false,
      'enable.saml20-idp': true,
      'module.enable': { core: true, saml: true, admin: true, exampleauth: true },
      'store.type': 'phpsession',
      'session.phpsession.savepath': path.join(dir, 'sessions'),
      // Plain http on loopback: a Secure cookie would never come back, and SameSite=None requires
      // Secure. Both origins are 127.0.0.1 (same site), so Lax loses nothing.
      'session.cookie.secure': false,
      'session.cookie.samesite': 'Lax',
      'language.cookie.secure': false,
      'language.cookie.samesite': 'Lax',
      showerrors: true,
      errorreporting: false,
    }),
  );
  writeFileSync(
    path.join(config, 'authsources.php'),
    phpFile('$config', {
      admin: ['core:AdminPassword'],
      'jitprov-users': {
        0: 'exampleauth:UserPass',
        [`${ZOE.username}:${ZOE.password}`]: personAttributes(ZOE),
        [`${YAMADA.username}:${YAMADA.password}`]: personAttributes(YAMADA),
      },
    }),
  );
  writeFileSync(
    path.join(config, 'metadata', 'saml20-idp-hosted.php'),
    phpFile(`$metadata[${php(o.idpEntityId)}]`, {
      host: '__DEFAULT__',
      privatekey: 'idp.key',
      certificate: 'idp.crt',
      auth: 'jitprov-users',
      // Entra's defaults: only the assertion signed, RSA-SHA256, claim URIs as names, email NameID.
      'saml20.sign.assertion': true,
      'saml20.sign.response': false,
      'signature.algorithm': RSA_SHA256,
      'attributes.NameFormat': ATTRNAME_URI,
      NameIDFormat: NAMEID_EMAIL,
      authproc: { 10: { class: 'saml:AttributeNameID', Format: NAMEID_EMAIL, attribute: CLAIM.email } },
    }),
  );
  writeFileSync(
    path.join(config, 'metadata', 'saml20-sp-remote.php'),
    phpFile(`$metadata[${php(o.sp.entityId)}]`, {
      AssertionConsumerService: [{ Binding: POST_BINDING, Location: o.sp.acsUrl }],
      NameIDFormat: NAMEID_EMAIL,
      'attributes.NameFormat': ATTRNAME_URI,
      'signature.algorithm': RSA_SHA256,
      'saml20.sign.assertion': true,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// jitprov's HTTP API

interface SpMetadata {
  entityId: string;
  acsUrl: string;
}

const parseXml = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');

/** jitprov's own metadata is what an IdP admin would import, so the IdP is configured from it. */
async function readSpMetadata(baseUrl: string): Promise<SpMetadata> {
  const res = await fetch(`${baseUrl}/saml/metadata`);
  const body = await res.text();
  expect(res.status, `GET /saml/metadata: ${body.slice(0, 300)} (see artifacts/jitprov.log)`).toBe(200);
  const doc = parseXml(body);
  const entityId = doc.getElementsByTagNameNS(MD, 'EntityDescriptor')[0]?.getAttribute('entityID');
  const services = Array.from(doc.getElementsByTagNameNS(MD, 'AssertionConsumerService'));
  const acsUrl = services.find((e) => e.getAttribute('Binding') === POST_BINDING)?.getAttribute('Location');
  if (!entityId || !acsUrl) throw new Error('jitprov SP metadata lacks entityID or an HTTP-POST ACS');
  return { entityId, acsUrl };
}

type Json = Record<string, unknown>;

async function graphql(baseUrl: string, query: string, variables: Json = {}): Promise<Json> {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { data?: Json; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data ?? {};
}

/** One admin mutation; its InputError member fails the test with the server's code and message. */
async function mutate(baseUrl: string, name: string, fields: string, input: Json): Promise<Json> {
  const inputType = `${name.charAt(0).toUpperCase()}${name.slice(1)}Input`;
  const query = `mutation($input: ${inputType}!) {
    ${name}(input: $input) { __typename ${fields} ... on InputError { code message path } }
  }`;
  const result = (await graphql(baseUrl, query, { input }))[name] as Json;
  expect(result, `${name} failed`).not.toHaveProperty('code');
  return result;
}

// ---------------------------------------------------------------------------------------------------
// SAML messages as seen on the wire

/** The AuthnRequest ID from a redirect-binding URL (deflated, base64, in the SAMLRequest parameter). */
function authnRequestId(url: string): string | null {
  const encoded = new URL(url).searchParams.get('SAMLRequest');
  if (!encoded) return null;
  const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  return parseXml(xml).documentElement?.getAttribute('ID') ?? null;
}

interface WireResponse {
  inResponseTo: string | null;
  responseSigned: boolean;
  assertionSigned: boolean;
  signatureMethods: string[];
  digestMethods: string[];
  nameId: string | null;
  nameIdFormat: string | null;
  attributeNameFormats: string[];
}

/** What the IdP actually sent, so the test proves the IdP configuration and not just the outcome. */
function readWireResponse(formBody: string): WireResponse {
  const saml = new URLSearchParams(formBody).get('SAMLResponse');
  if (!saml) throw new Error('the ACS post carried no SAMLResponse');
  const doc = parseXml(Buffer.from(saml, 'base64').toString('utf8'));
  const response = doc.getElementsByTagNameNS(SAML_PROTOCOL, 'Response')[0];
  const assertion = doc.getElementsByTagNameNS(SAML_ASSERTION, 'Assertion')[0];
  const hasSignatureChild = (el: Element | undefined) =>
    Array.from(el?.childNodes ?? []).some((n) => {
      const child = n as Element;
      return child.nodeType === 1 && child.namespaceURI === DS && child.localName === 'Signature';
    });
  const algorithms = (local: string) =>
    Array.from(doc.getElementsByTagNameNS(DS, local)).map((e) => e.getAttribute('Algorithm') ?? '');
  const nameId = doc.getElementsByTagNameNS(SAML_ASSERTION, 'NameID')[0];
  return {
    inResponseTo: response?.getAttribute('InResponseTo') || null,
    responseSigned: hasSignatureChild(response),
    assertionSigned: hasSignatureChild(assertion),
    signatureMethods: algorithms('SignatureMethod'),
    digestMethods: algorithms('DigestMethod'),
    nameId: nameId?.textContent ?? null,
    nameIdFormat: nameId?.getAttribute('Format') ?? null,
    attributeNameFormats: [
      ...new Set(
        Array.from(doc.getElementsByTagNameNS(SAML_ASSERTION, 'Attribute')).map(
          (a) => a.getAttribute('NameFormat') ?? '',
        ),
      ),
    ],
  };
}

// ---------------------------------------------------------------------------------------------------

describe.skipIf(skip)(
  `SimpleSAMLphp IdP → jitprov in headless Chromium${skip ? ' (skipped: JITPROV_E2E=0)' : ''}`,
  () => {
    const procs: Proc[] = [];
    const cleanups: (() => Promise<void>)[] = [];
    let browser: Browser | undefined;
    let sql: pg.Client;
    let jitprovUrl = '';
    let sspUrl = '';
    let sp: SpMetadata;
    let connectionId = '';

    // A safety net for a worker that is torn down without running afterAll: no orphaned servers.
    const killAll = () => {
      for (const p of procs) p.child.kill('SIGKILL');
    };

    beforeAll(async () => {
      checkPrerequisites();
      // Only this run's screenshots and logs, so none is mistaken for a later run's.
      rmSync(ARTIFACTS, { recursive: true, force: true });
      mkdirSync(ARTIFACTS, { recursive: true });
      process.once('exit', killAll);
      const tmp = mkdtempSync(path.join(os.tmpdir(), 'jitprov-e2e-'));
      cleanups.push(async () => rmSync(tmp, { recursive: true, force: true }));

      const db = await createDatabase();
      cleanups.push(() => db.drop());
      sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      cleanups.unshift(() => sql.end());

      // jitprov first: the IdP's configuration is made from its SP metadata.
      const jitprovPort = await freePort();
      jitprovUrl = `http://127.0.0.1:${jitprovPort}`;
      const jitprov = start('jitprov', process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: REPO,
        env: {
          ...process.env,
          NODE_ENV: 'test',
          HOST: '127.0.0.1',
          PORT: String(jitprovPort),
          PUBLIC_URL: jitprovUrl,
          DATABASE_URL: db.url,
          DATA_DIR: path.join(tmp, 'jitprov-data'),
          ADMIN_TOKEN,
          LOG_LEVEL: 'info',
        },
      });
      procs.push(jitprov);
      await waitUntilUp(jitprov, `${jitprovUrl}/readyz`, 25_000);
      sp = await readSpMetadata(jitprovUrl);

      const sspPort = await freePort();
      sspUrl = `http://127.0.0.1:${sspPort}`;
      const idpEntityId = `${sspUrl}/saml2/idp/metadata.php`;
      const sspDir = path.join(tmp, 'simplesamlphp');
      writeSspConfig(sspDir, { baseUrl: sspUrl, idpEntityId, sp });
      const key = await generateIdpKeyPair({ commonName: 'jitprov e2e SimpleSAMLphp IdP', days: 2 });
      writeFileSync(path.join(sspDir, 'cert', 'idp.key'), key.privateKeyPem, { mode: 0o600 });
      writeFileSync(path.join(sspDir, 'cert', 'idp.crt'), key.certPem);
      // The built-in server maps /module.php/<module>/<page> to module.php with PATH_INFO by itself, so
      // no router script is needed; errors go to its log, never into a page.
      const ssp = start(
        'simplesamlphp',
        'php',
        ['-d', 'display_errors=stderr', '-S', `127.0.0.1:${sspPort}`, '-t', SSP_WWW],
        { cwd: sspDir, env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: path.join(sspDir, 'config') } },
      );
      procs.push(ssp);
      await waitUntilUp(ssp, idpEntityId, 10_000);

      // The admin's part: import the IdP's published metadata, map the Entra claims, add a license.
      const metadataXml = await (await fetch(idpEntityId)).text();
      const connection = await mutate(
        jitprovUrl,
        'createConnection',
        '... on IdpConnection { id entityId ssoRedirectUrl }',
        { name: 'SimpleSAMLphp (e2e)', metadataXml },
      );
      expect(connection).toMatchObject({ __typename: 'IdpConnection', entityId: idpEntityId });
      connectionId = String(connection.id);
      for (const [attributeName, column] of MAPPINGS) {
        const mapping = { kind: 'COPY', attributeName, column, required: column === 'email' };
        const input = { connectionId, mapping };
        await mutate(jitprovUrl, 'addAttributeMapping', '... on AttributeMapping { id }', input);
      }
      await mutate(jitprovUrl, 'createLicense', '... on License { id }', { name: 'CRM', seats: 10 });

      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 15_000 });
    }, START_TIMEOUT_MS);

    afterAll(async () => {
      // Each step on its own, so one failure does not leave the rest running.
      const steps: (() => Promise<unknown>)[] = [
        async () => browser?.close(),
        () => Promise.all(procs.map(stop)),
        ...cleanups,
      ];
      for (const step of steps) await step().catch((e: unknown) => console.error('e2e cleanup:', e));
      process.removeListener('exit', killAll);
    }, STOP_TIMEOUT_MS);

    /** SimpleSAMLphp's unsolicited-SSO entry: it sends a response to the SP without being asked. */
    const idpInitiatedUrl = () =>
      `${sspUrl}/saml2/idp/SSOService.php?spentityid=${encodeURIComponent(sp.entityId)}`;

    /**
     * Runs one person's visit in a fresh context (no IdP session cookie carries over from the previous
     * login); a failure leaves a screenshot of where the browser was.
     */
    async function withPage(shot: string, visit: (page: Page) => Promise<void>): Promise<void> {
      if (!browser) throw new Error('browser not started');
      const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
      // Shorter than a case, so a stuck step fails with Playwright's message naming it.
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      try {
        await visit(page);
      } catch (e) {
        await page.screenshot({ path: path.join(ARTIFACTS, `${shot}-failed.png`) }).catch(() => {});
        throw e;
      } finally {
        await context.close();
      }
    }

    /** Fills SimpleSAMLphp's login form as a person would, and follows the auto-posted response. */
    async function logInAtIdp(page: Page, person: Person, shot: string): Promise<WireResponse> {
      await page.waitForURL((u) => u.href.startsWith(`${sspUrl}/module.php/core/loginuserpass.php`));
      await page.locator('#username').fill(person.username);
      await page.locator('#password').fill(person.password);
      await page.screenshot({ path: path.join(ARTIFACTS, `${shot}-idp-login.png`) });
      const acsPost = page.waitForRequest((r) => r.url() === sp.acsUrl && r.method() === 'POST');
      await page.locator('#submit_button').click();
      const posted = await acsPost.catch(async (e: unknown) => {
        // Usually the IdP showing an error or the login form again; say what the person would see.
        const seen = (
          await page
            .locator('body')
            .textContent()
            .catch(() => '')
        )
          ?.replace(/\s+/g, ' ')
          .trim();
        throw new Error(`the IdP never posted to ${sp.acsUrl}; at ${page.url()}: ${seen?.slice(0, 300)}`, {
          cause: e,
        });
      });
      await page.waitForURL(sp.acsUrl);
      await page.waitForLoadState('load');
      return readWireResponse(posted.postData() ?? '');
    }

    async function expectSignedInPage(page: Page, person: Person, created: boolean, shot: string) {
      // Taken before asserting, so a refusal page is on file too.
      await page.screenshot({ path: path.join(ARTIFACTS, `${shot}-landing.png`), fullPage: true });
      const answered = `jitprov answered: ${await page.locator('body').textContent()}`;
      expect(await page.locator('h1').textContent(), answered).toBe('Signed in');
      const text = await page.locator('p').first().textContent();
      expect(text).toBe(`Signed in as ${person.email}${created ? ' (account created).' : '.'}`);
    }

    async function expectProvisioned(person: Person) {
      const users = await sql.query<{ id: string }>(
        `select u.id, u.username, u.status, c.given_name, c.surname, c.full_name, c.email,
                c.groups from app_user u left join contact c on c.user_id = u.id where u.username = $1`,
        [person.email],
      );
      expect(users.rows).toHaveLength(1);
      expect(users.rows[0]).toMatchObject({
        username: person.email,
        status: 'ACTIVE',
        given_name: person.givenName,
        surname: person.surname,
        full_name: person.fullName,
        email: person.email,
        groups: person.groups,
      });
      const grants = await sql.query<{ name: string }>(
        'select l.name from license_grant g join license l on l.id = g.license_id where g.user_id = $1',
        [users.rows[0]!.id],
      );
      expect(grants.rows).toEqual([{ name: 'CRM' }]);
    }

    function expectEntraShapedResponse(wire: WireResponse, person: Person) {
      expect(wire).toMatchObject({
        responseSigned: false,
        assertionSigned: true,
        nameId: person.email,
        nameIdFormat: NAMEID_EMAIL,
        attributeNameFormats: [ATTRNAME_URI],
      });
      expect(new Set(wire.signatureMethods)).toEqual(new Set([RSA_SHA256]));
      expect(new Set(wire.digestMethods)).toEqual(new Set([SHA256]));
    }

    it(
      'IdP-initiated: a person with non-ASCII names signs in and is provisioned with the mapped values',
      () =>
        withPage('idp-initiated-zoe', async (page) => {
          await page.goto(idpInitiatedUrl());
          const wire = await logInAtIdp(page, ZOE, 'idp-initiated-zoe');
          expectEntraShapedResponse(wire, ZOE);
          expect(wire.inResponseTo).toBeNull();
          await expectSignedInPage(page, ZOE, true, 'idp-initiated-zoe');
          await expectProvisioned(ZOE);
        }),
      CASE_TIMEOUT_MS,
    );

    it(
      'IdP-initiated: a person in several groups gets them all, in order, as an array',
      () =>
        withPage('idp-initiated-yamada', async (page) => {
          const seatsUsed = async () => {
            const { licenses } = await graphql(
              jitprovUrl,
              '{ licenses(first: 100) { edges { node { name used } } } }',
            );
            const { edges } = licenses as { edges: { node: { name: string; used: number } }[] };
            return edges.find((e) => e.node.name === 'CRM')?.node.used;
          };
          const usedBefore = await seatsUsed();
          await page.goto(idpInitiatedUrl());
          const wire = await logInAtIdp(page, YAMADA, 'idp-initiated-yamada');
          expectEntraShapedResponse(wire, YAMADA);
          await expectSignedInPage(page, YAMADA, true, 'idp-initiated-yamada');
          await expectProvisioned(YAMADA);
          // The admin's view of the same sign-in: one more seat taken.
          expect(await seatsUsed()).toBe((usedBefore ?? 0) + 1);
        }),
      CASE_TIMEOUT_MS,
    );

    it(
      'SP-initiated: a returning person starts at jitprov, signs in at the IdP and comes back signed in',
      () =>
        withPage('sp-initiated-zoe', async (page) => {
          const lastLogin = async () => {
            const { rows } = await sql.query<{ last_login_at: Date | null }>(
              'select last_login_at from app_user where username = $1',
              [ZOE.email],
            );
            return rows[0]?.last_login_at;
          };
          const before = await lastLogin();
          expect(before, 'this case signs Zoë in again after the first IdP-initiated case').toBeInstanceOf(
            Date,
          );
          const first = await page.goto(
            `${jitprovUrl}/saml/login?connection=${encodeURIComponent(connectionId)}`,
          );
          // jitprov → IdP SSO (AuthnRequest) → login form: the redirect chain holds the request jitprov sent.
          let hop = first?.request() ?? null;
          while (hop && !hop.url().startsWith(`${sspUrl}/saml2/idp/SSOService.php`)) {
            hop = hop.redirectedFrom();
          }
          if (!hop) throw new Error(`jitprov did not redirect to the IdP SSO URL (landed on ${page.url()})`);
          const requestId = authnRequestId(hop.url());
          expect(requestId).toBeTruthy();
          const wire = await logInAtIdp(page, ZOE, 'sp-initiated-zoe');
          expectEntraShapedResponse(wire, ZOE);
          expect(wire.inResponseTo).toBe(requestId);
          await expectSignedInPage(page, ZOE, false, 'sp-initiated-zoe');
          await expectProvisioned(ZOE);
          expect((await lastLogin())?.getTime()).toBeGreaterThan(before!.getTime());
          const events = await sql.query<{ outcome: string }>(
            'select outcome from provisioning_event where name_id = $1 order by created_at',
            [ZOE.email],
          );
          expect(events.rows.map((e) => e.outcome)).toEqual(['CREATED', 'SIGNED_IN']);
        }),
      CASE_TIMEOUT_MS,
    );
  },
);
