import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIdp } from '../helpers/idp.js';
import { signInCounts } from '../helpers/refusal.js';
import { createConnection } from '../helpers/setup.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/test-app.js';

/**
 * Input hygiene at the ACS: every malformed input is a clean 4xx with its own code, decided before
 * any signature work, in milliseconds, and writes at most its audit event. Timings are printed.
 */
let t: TestApp;
let idp: TestIdp;
const timings: [string, number, number][] = [];

beforeAll(async () => {
  t = await createTestApp();
  idp = await TestIdp.create();
  await createConnection(t.app, idp);
});
afterAll(async () => {
  console.info(
    timings.map(([name, status, ms]) => `${ms.toFixed(1).padStart(7)} ms  ${status}  ${name}`).join('\n'),
  );
  await t.close();
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

async function post(name: string, body: BodyInit, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await t.app.fetch(
    new Request(`${PUBLIC_URL}/saml/acs`, {
      method: 'POST',
      headers: { 'content-type': FORM, accept: 'application/json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit),
  );
  const json = (await res.json()) as { error?: { code: string } };
  const ms = performance.now() - started;
  timings.push([name, res.status, ms]);
  return { status: res.status, code: json.error?.code, ms };
}

/** A lazily produced body of `total` bytes; reports how much the server pulled. */
function hugeStream(total: number) {
  const chunk = new TextEncoder().encode(`SAMLResponse=${'A'.repeat(64 * 1024 - 13)}`);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => sent };
}

const TEN_MB = 10 * 1024 * 1024;
// Not a speed measurement (the bench measures; CI runs test files side by side on 2 cores): a bound
// that a hang, or a parse of the 10 MB or the 20,000 nested elements, would not meet. That nothing
// expensive ran is shown by the bytes read and the rows written.
const REFUSED_WITHIN_MS = 2000;
const RESPONSE_HEAD = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_h" Version="2.0"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">`;

describe('the body is capped before it is read', () => {
  it('a 10 MB body streamed without Content-Length: 413, refused after reading about 1 MB', async () => {
    const before = await signInCounts(t);
    const body = hugeStream(TEN_MB);
    const r = await post('10 MB streamed body', body.stream);
    expect(r).toMatchObject({ status: 413, code: 'SAML_RESPONSE_TOO_LARGE' });
    expect(body.pulled()).toBeLessThan(2 * 1024 * 1024);
    expect(r.ms).toBeLessThan(REFUSED_WITHIN_MS);
    expect(await signInCounts(t)).toEqual(before);
  });

  it('a 10 MB body announced by Content-Length: 413 without reading a byte', async () => {
    const body = hugeStream(TEN_MB);
    const r = await post('10 MB announced body', body.stream, { 'content-length': String(TEN_MB) });
    expect(r).toMatchObject({ status: 413, code: 'SAML_RESPONSE_TOO_LARGE' });
    expect(body.pulled()).toBeLessThanOrEqual(64 * 1024);
    expect(r.ms).toBeLessThan(REFUSED_WITHIN_MS);
  });

  it('not a form post: 415', async () => {
    const r = await post('JSON body', JSON.stringify({ SAMLResponse: 'x' }), {
      'content-type': 'application/json',
    });
    expect(r).toMatchObject({ status: 415, code: 'SAML_RESPONSE_MALFORMED' });
  });
});

const billionLaughs =
  '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
  `${RESPONSE_HEAD}&lol3;</Issuer></samlp:Response>`;
const xxe =
  '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
  `${RESPONSE_HEAD}&xxe;</Issuer></samlp:Response>`;
const deep = `${RESPONSE_HEAD}https://x/</Issuer>${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}</samlp:Response>`;

const CASES: [name: string, samlResponse: () => string, status: number, code: string][] = [
  ['SAMLResponse over the size cap', () => 'A'.repeat(400 * 1024), 413, 'SAML_RESPONSE_TOO_LARGE'],
  ['DOCTYPE with entity expansion (billion laughs)', () => b64(billionLaughs), 400, 'SAML_DOCTYPE_FORBIDDEN'],
  ['DOCTYPE with an external entity (XXE)', () => b64(xxe), 400, 'SAML_DOCTYPE_FORBIDDEN'],
  [
    'deflated (HTTP-Redirect encoding) on the POST binding',
    () => deflateRawSync(idp.signedXml('d@contoso.example')).toString('base64'),
    400,
    'SAML_RESPONSE_DEFLATED',
  ],
  [
    'malformed base64 (characters outside the alphabet)',
    () => 'PHNhbWxw*Om5vcGU+',
    400,
    'SAML_RESPONSE_NOT_BASE64',
  ],
  [
    'malformed base64 (truncated)',
    () => b64(idp.signedXml('t@contoso.example')).slice(0, -3),
    400,
    'SAML_RESPONSE_NOT_BASE64',
  ],
  [
    'binary, not XML',
    () => b64(Buffer.from([0, 159, 146, 150, 255, 1, 2, 3])),
    400,
    'SAML_RESPONSE_MALFORMED',
  ],
  ['not well-formed XML', () => b64(`${RESPONSE_HEAD}x</samlp:Respo`), 400, 'SAML_RESPONSE_MALFORMED'],
  [
    'a root that is not samlp:Response',
    () => b64('<html><body>hi</body></html>'),
    400,
    'SAML_RESPONSE_MALFORMED',
  ],
  [
    'text after the root element',
    () => `${b64(`${idp.signedXml('x@contoso.example')}trailing`)}`,
    400,
    'SAML_RESPONSE_TRAILING_CONTENT',
  ],
  [
    'a second root element',
    () =>
      b64(
        `${idp.signedXml('y@contoso.example')}<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`,
      ),
    400,
    'SAML_RESPONSE_TRAILING_CONTENT',
  ],
  ['no SAMLResponse field', () => '', 400, 'SAML_RESPONSE_MALFORMED'],
  ['20 000 nested elements', () => b64(deep), 400, 'SAML_RESPONSE_MALFORMED'],
];

describe('each malformed SAMLResponse: a clean 4xx with its own code, at once, only its audit event', () => {
  for (const [name, samlResponse, status, code] of CASES) {
    it(`${name} → ${status} ${code}`, async () => {
      const before = await signInCounts(t);
      const r = await post(name, form({ SAMLResponse: samlResponse(), RelayState: '' }));
      expect(r).toMatchObject({ status, code });
      expect(r.ms).toBeLessThan(REFUSED_WITHIN_MS);
      expect(await signInCounts(t)).toEqual({ ...before, events: before.events! + 1 });
    });
  }
});
