/**
 * A demo IdP for newcomers without one. With `npm start` running:
 *   npm run demo:login -- alice@example.com [--given Alice --surname Smith --department Sales --groups a,b]
 * It plays both parties of a real setup: the admin (the "Demo IdP" connection, its mappings and a
 * "Demo" license, over GraphQL) and the IdP (signs an Entra-shaped response with a key kept in
 * DATA_DIR), and posts the response to /saml/acs, through the same validation as any IdP's.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DOMParser } from '@xmldom/xmldom';
import {
  buildEntraMetadata,
  buildSignedResponse,
  EntraClaims,
  encodeSamlResponse,
  generateIdpKeyPair,
  type IdpKeyPair,
} from './demo-idp/index.js';

// All zeros plus "de30": obviously not a real tenant, so it never collides with one.
const DEMO_TENANT = '00000000-0000-4000-8000-00000000de30';
const DEMO_ENTITY_ID = `https://sts.windows.net/${DEMO_TENANT}/`;
const DEMO_MAPPINGS: [attributeName: string, column: string][] = [
  [EntraClaims.givenName, 'givenName'],
  [EntraClaims.surname, 'surname'],
  [EntraClaims.emailAddress, 'email'],
  [EntraClaims.displayName, 'fullName'],
  [EntraClaims.department, 'department'],
  [EntraClaims.groups, 'groups'],
];
const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

// Resolved like the server resolves it, so both find the same files when run from the same folder.
const dataDir = path.resolve(process.env.DATA_DIR ?? '.data');

/** An expected failure: its message alone is printed, without a stack. */
class DemoError extends Error {}
type Json = Record<string, unknown>;
type GraphQLAnswer = { data?: Json; errors?: { message: string; extensions?: { code?: string } }[] };

const USAGE =
  'usage: npm run demo:login -- <email> [--given G --surname S --department D --groups a,b] [--url http://localhost:4000]';
const text = { type: 'string' } as const;
const CLI = {
  allowPositionals: true,
  options: { given: text, surname: text, department: text, groups: text, url: text },
} as const;

/**
 * Where the server is: --url, else JITPROV_URL, else the PORT (and HOST) the server reads from the
 * same environment, else PUBLIC_URL, else the server's default (localhost:4000).
 */
function serverUrl(given: string | undefined): string {
  const env = process.env;
  const host = env.HOST && env.HOST !== '0.0.0.0' ? env.HOST : 'localhost';
  const url =
    given ??
    env.JITPROV_URL ??
    (env.PORT ? `http://${host}:${env.PORT}` : (env.PUBLIC_URL ?? 'http://localhost:4000'));
  try {
    return new URL(url).href.replace(/\/+$/, '');
  } catch {
    throw new DemoError(`--url ${url} is not a URL\n${USAGE}`);
  }
}
let baseUrl = 'http://localhost:4000';

function parseCli() {
  let parsed: ReturnType<typeof parseArgs<typeof CLI>>;
  try {
    parsed = parseArgs(CLI);
  } catch (e) {
    throw new DemoError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  baseUrl = serverUrl(values.url);
  const nameId = positionals[0];
  if (!nameId || positionals.length > 1) throw new DemoError(USAGE);
  // Without --given, "alice.smith@example.com" still gets a readable first name: Alice.
  const first = nameId.split(/[@._-]/)[0] || nameId;
  const given = values.given ?? first.charAt(0).toUpperCase() + first.slice(1);
  const groups = (values.groups ?? '').split(',').map((g) => g.trim());
  return { ...values, nameId, given, groups: groups.filter((g) => g !== '') };
}

async function loadOrCreateIdpKey(): Promise<IdpKeyPair> {
  const file = path.join(dataDir, 'demo-idp', 'key.json');
  try {
    const { privateKeyPem, certPem } = JSON.parse(readFileSync(file, 'utf8')) as Partial<IdpKeyPair>;
    if (typeof privateKeyPem === 'string' && typeof certPem === 'string') return { privateKeyPem, certPem };
    throw new DemoError(`${file} lacks privateKeyPem or certPem; delete it to start over`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = await generateIdpKeyPair();
  // A private key: readable by its owner only.
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  console.log(`Demo IdP key created in ${file}`);
  return key;
}

function readAdminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const file = path.join(dataDir, 'admin-token');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const where = `the server writes it to ${file} in development`;
    throw new DemoError(`no admin token: set ADMIN_TOKEN, or start the server once (${where})`);
  }
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    throw new DemoError(`cannot reach jitprov at ${baseUrl} (is \`npm start\` running?): ${String(e)}`);
  }
}

async function graphql(token: string, query: string, variables: Json = {}): Promise<Json> {
  const res = await request(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json().catch(() => ({}))) as GraphQLAnswer;
  if (body.errors?.length) {
    const messages = body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; ');
    // FORBIDDEN here usually means an admin-token file from another DATA_DIR than the server's.
    const hint = messages.includes('FORBIDDEN') ? " (is the admin token this server's?)" : '';
    throw new DemoError(`GraphQL error: ${messages}${hint}`);
  }
  if (!body.data) throw new DemoError(`GraphQL answered HTTP ${res.status} without data`);
  return body.data;
}

/** Runs one admin mutation; its `Payload | InputError` union's error member becomes a thrown error. */
async function mutate<T = Json>(admin: string, name: string, payload: string, input: Json): Promise<T> {
  const inputType = `${name.charAt(0).toUpperCase()}${name.slice(1)}Input`;
  const errorFields = '... on InputError { code message path }';
  const query = `mutation($input: ${inputType}!) { ${name}(input: $input) { ${payload} ${errorFields} } }`;
  const data = await graphql(admin, query, { input });
  const r = (data[name] ?? {}) as { code?: string; message?: string; path?: string[] };
  if (r.code) throw new DemoError(`${name} failed: ${r.code}: ${r.message} (at ${r.path?.join('.')})`);
  return r as T;
}

type Connection = {
  id: string;
  entityId: string;
  certificates: { fingerprintSha256: string }[];
  mappings: { column: string }[];
};

async function ensureConnection(admin: string, key: IdpKeyPair): Promise<void> {
  const fields = 'id entityId certificates { fingerprintSha256 } mappings { column }';
  const data = await graphql(admin, `{ connections { ${fields} } }`);
  let conn = (data.connections as Connection[]).find((c) => c.entityId === DEMO_ENTITY_ID);
  if (!conn) {
    const metadataXml = buildEntraMetadata({
      entityId: DEMO_ENTITY_ID,
      ssoUrl: `https://login.microsoftonline.com/${DEMO_TENANT}/saml2`,
      certPems: [key.certPem],
    });
    const input = { name: 'Demo IdP', metadataXml };
    conn = await mutate<Connection>(admin, 'createConnection', `... on IdpConnection { ${fields} }`, input);
    console.log(`Connection "Demo IdP" created for ${DEMO_ENTITY_ID}`);
  }
  // A key.json deleted or replaced after the connection was made would fail at the ACS; say why here.
  const ours = new X509Certificate(key.certPem).fingerprint256;
  if (!conn.certificates.some((c) => c.fingerprintSha256 === ours)) {
    const fix = 'restore the key.json it was created with, or start over with a fresh DATA_DIR';
    throw new DemoError(`the "Demo IdP" connection trusts another key than ${dataDir}/demo-idp: ${fix}`);
  }
  // Per mapping rather than only after creating, so a run interrupted half-way is completed next time.
  for (const [attributeName, column] of DEMO_MAPPINGS) {
    if (conn.mappings.some((m) => m.column === column)) continue;
    const input = { connectionId: conn.id, mapping: { attributeName, column } };
    await mutate(admin, 'addAttributeMapping', '... on AttributeMapping { id }', input);
    console.log(`Mapping ${attributeName} → ${column} added`);
  }
}

async function ensureLicense(admin: string): Promise<void> {
  const data = await graphql(admin, '{ licenses(first: 100) { edges { node { id name } } } }');
  const edges = (data.licenses as { edges: { node: { name: string } }[] }).edges;
  if (edges.some((e) => e.node.name === 'Demo')) return;
  await mutate(admin, 'createLicense', '... on License { id }', { name: 'Demo', seats: 100 });
  console.log('License "Demo" (100 seats) created');
}

/** The SP's own metadata is the source of truth for where and to whom the IdP must address its response. */
async function readSpMetadata(): Promise<{ entityId: string; acsUrl: string }> {
  const res = await request(`${baseUrl}/saml/metadata`, { method: 'GET' });
  if (!res.ok) throw new DemoError(`GET /saml/metadata answered HTTP ${res.status}`);
  const doc = new DOMParser().parseFromString(await res.text(), 'text/xml');
  const md = 'urn:oasis:names:tc:SAML:2.0:metadata';
  const entityId = doc.getElementsByTagNameNS(md, 'EntityDescriptor')[0]?.getAttribute('entityID');
  const services = Array.from(doc.getElementsByTagNameNS(md, 'AssertionConsumerService'));
  const acsUrl = services.find((e) => e.getAttribute('Binding') === POST_BINDING)?.getAttribute('Location');
  if (!entityId || !acsUrl) throw new DemoError('SP metadata lacks entityID or an HTTP-POST ACS');
  return { entityId, acsUrl };
}

function entraAttributes(cli: ReturnType<typeof parseCli>): Record<string, string | string[]> {
  const attributes: Record<string, string | string[]> = {
    [EntraClaims.tenantId]: DEMO_TENANT,
    [EntraClaims.name]: cli.nameId,
    [EntraClaims.emailAddress]: cli.nameId,
    [EntraClaims.givenName]: cli.given,
    [EntraClaims.displayName]: [cli.given, cli.surname].filter(Boolean).join(' '),
  };
  // Entra leaves out claims the user has no value for, rather than sending them empty.
  if (cli.surname) attributes[EntraClaims.surname] = cli.surname;
  if (cli.department) attributes[EntraClaims.department] = cli.department;
  if (cli.groups.length > 0) attributes[EntraClaims.groups] = cli.groups;
  return attributes;
}

async function postToAcs(samlResponse: string): Promise<Json> {
  // To the route on baseUrl, like a browser reaching the server: the ACS URL in the metadata is the
  // server's public name (PUBLIC_URL), which need not resolve from where this script runs.
  console.log(`Posting the signed SAML response to ${baseUrl}/saml/acs`);
  const res = await request(`${baseUrl}/saml/acs`, {
    method: 'POST',
    headers: { accept: 'application/json' },
    body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: '' }),
  });
  const notJson = { error: { code: `HTTP ${res.status}`, message: 'the answer is not JSON' } };
  const body: Json & { error?: { code: string; message: string } } = await res.json().catch(() => notJson);
  const { error } = body;
  if (error) throw new DemoError(`sign-in refused (HTTP ${res.status}): ${error.code}: ${error.message}`);
  return body;
}

async function main(): Promise<void> {
  const cli = parseCli();
  const admin = readAdminToken();
  const key = await loadOrCreateIdpKey();
  await ensureConnection(admin, key);
  await ensureLicense(admin);
  const sp = await readSpMetadata();
  console.log(`SP entity id ${sp.entityId}, ACS ${sp.acsUrl}`);
  const xml = buildSignedResponse({
    key,
    issuer: DEMO_ENTITY_ID,
    audience: sp.entityId,
    destination: sp.acsUrl,
    nameId: cli.nameId,
    attributes: entraAttributes(cli),
  });
  const result = await postToAcs(encodeSamlResponse(xml));
  const outcome = result.created ? 'user created' : 'existing user, not created';
  console.log(`Signed in as ${cli.nameId}: ${outcome}`);
  console.log(JSON.stringify(result, null, 2));

  const query = '{ me { username contact { fullName email department groups } licenses { name } } }';
  const me = await graphql(String(result.sessionToken), query);
  if (!me.me) throw new DemoError('the session token was not accepted: me is null');
  console.log('me, asked with the session token:');
  console.log(JSON.stringify(me.me, null, 2));
}

main().catch((e: unknown) => {
  console.error(e instanceof DemoError ? e.message : e);
  process.exit(1);
});
