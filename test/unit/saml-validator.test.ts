import { beforeAll, describe, expect, it } from 'vitest';
import { buildSignedResponse, generateIdpKeyPair, type IdpKeyPair } from '../../scripts/demo-idp/index.js';
import { readIncomingResponse } from '../../src/saml/incoming.js';
import { type ConnectionTrust, createSamlValidator } from '../../src/saml/validator.js';

const SP = 'https://sp.example/saml/metadata';
const ACS = 'https://sp.example/saml/acs';
const IDP = 'https://idp.example/';

let key: IdpKeyPair;
let connection: ConnectionTrust;
const validator = createSamlValidator({ spEntityId: SP, acsUrl: ACS });

beforeAll(async () => {
  key = await generateIdpKeyPair();
  connection = {
    id: 'c1',
    entityId: IDP,
    certificates: [{ pem: key.certPem, fingerprintSha256: 'fp' }],
    wantResponseSigned: false,
    clockSkewSeconds: 60,
    nameIdFormat: null,
    allowSha1: false,
  };
});

const signed = (attributes: Record<string, string | string[]>, opts: { signatureAlgorithm?: 'sha1' } = {}) =>
  buildSignedResponse({
    key,
    issuer: IDP,
    audience: SP,
    destination: ACS,
    nameId: 'n@idp.example',
    attributes,
    ...opts,
  });

const validate = (xml: string, conn: ConnectionTrust = connection) =>
  validator.validate(conn, readIncomingResponse(Buffer.from(xml).toString('base64'), 1 << 20));

describe('attribute values are the full signed text', () => {
  it('a comment or CDATA split inside an AttributeValue does not cut the value', async () => {
    const xml = signed({ department: 'Sales.evil', role: 'user-admin' })
      .replace('>Sales.evil<', '>Sales<!---->.evil<')
      .replace('>user-admin<', '><![CDATA[user]]>-admin<');
    const a = await validate(xml);
    expect(a.attributes.department).toEqual(['Sales.evil']);
    expect(a.attributes.role).toEqual(['user-admin']);
  });
});

describe('per-connection SHA-1 opt-in', () => {
  it('refuses RSA-SHA1 by default and accepts it where the connection allows it', async () => {
    const xml = signed({}, { signatureAlgorithm: 'sha1' });
    await expect(validate(xml)).rejects.toMatchObject({ code: 'SAML_SIGNATURE_ALGORITHM_FORBIDDEN' });
    await expect(validate(xml, { ...connection, allowSha1: true })).resolves.toMatchObject({
      nameId: 'n@idp.example',
    });
  });
});

describe('clock skew', () => {
  it('accepts an assertion expired less than the skew ago and refuses one expired longer ago', async () => {
    const at = (secondsAgo: number) =>
      buildSignedResponse({
        key,
        issuer: IDP,
        audience: SP,
        destination: ACS,
        nameId: 'n@idp.example',
        now: new Date(Date.now() - 3600_000),
        notOnOrAfter: new Date(Date.now() - secondsAgo * 1000),
      });
    await expect(validate(at(30))).resolves.toMatchObject({ nameId: 'n@idp.example' });
    await expect(validate(at(90))).rejects.toMatchObject({ code: 'SAML_ASSERTION_EXPIRED' });
    await expect(validate(at(90), { ...connection, clockSkewSeconds: 120 })).resolves.toBeDefined();
  });
});

describe('a Response signature the connection does not require', () => {
  it('is still verified when present: a broken one refuses the response', async () => {
    const xml = buildSignedResponse({
      key,
      issuer: IDP,
      audience: SP,
      destination: ACS,
      nameId: 'n@idp.example',
      sign: 'response-and-assertion',
    });
    await expect(validate(xml)).resolves.toMatchObject({ nameId: 'n@idp.example' });
    // Outside the assertion, so only the Response signature covers it.
    const tampered = xml.replace(/(<samlp:Response[^>]*IssueInstant=")[^"]+"/, '$12001-01-01T00:00:00Z"');
    expect(tampered).not.toBe(xml);
    await expect(validate(tampered)).rejects.toMatchObject({ code: 'SAML_SIGNATURE_INVALID' });
  });
});
