import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ErrorCode, isAppError } from '../../src/errors.js';
import { type IdpMetadata, MAX_METADATA_BYTES, parseIdpMetadata } from '../../src/saml/idp-metadata.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/metadata/${name}`, import.meta.url), 'utf8');

/** Runs fn, expecting an AppError; returns it so a test can check more than the code. */
function expectAppError(fn: () => unknown, code: ErrorCode) {
  try {
    fn();
  } catch (e) {
    if (!isAppError(e)) throw e;
    expect(e.code).toBe(code);
    return e;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

// SHA-256 fingerprints as printed by `openssl x509 -noout -fingerprint -sha256` when the fixture
// certificates were generated, so the expectation does not come from the code under test.
const FP = {
  entraCurrent:
    '5B:4C:BE:F2:58:3D:6C:F6:D2:63:C4:79:5C:11:A5:3E:79:04:60:52:8D:71:D1:7B:4C:F9:4C:18:29:09:14:3D',
  entraNext:
    '3B:50:BA:F5:E0:AF:49:38:6B:7F:02:A6:F7:20:68:FF:CA:27:17:C4:57:8E:4C:9A:B8:99:54:77:6B:CC:40:AA',
  okta: '15:CA:69:F7:85:45:4F:8D:6C:58:5E:7D:6E:18:55:4F:8F:77:C9:33:6C:45:4B:D2:FE:1E:B0:8F:61:2D:7C:48',
  adfsSigning:
    'B5:A8:43:3D:B2:CD:C1:7D:05:9F:6A:67:F6:9B:7E:C3:0B:00:D0:4D:8E:11:8B:60:FD:B4:42:58:FE:F1:B7:CC',
  google: '3C:32:4B:A3:02:D5:94:08:E5:A8:A9:1E:90:37:12:D7:70:8F:C4:B0:22:D4:9B:AB:10:B2:52:FF:50:04:52:96',
  keycloak: 'B3:83:8C:59:6B:4F:80:CB:94:49:B6:40:FC:18:4E:5B:72:C3:DD:01:4A:B5:8E:68:F6:23:A5:D8:D5:51:75:ED',
  simplesamlphp:
    '59:77:43:00:B3:63:17:26:05:71:25:DB:86:9D:AD:8A:55:68:09:A6:D1:CC:69:AE:10:57:F7:8C:E7:D8:7D:54',
  idpA: '9D:20:F2:40:6A:FC:9D:32:E2:D3:10:14:CB:42:76:A6:EE:F9:87:3B:5E:F8:70:3F:66:5C:A2:E2:A8:E3:D6:65',
  idpB: 'DC:8D:AC:F3:09:EB:73:88:45:13:FA:88:69:0E:2D:5D:3E:BF:53:93:2E:9E:E8:5E:47:D1:B1:94:AB:34:82:E8',
};

// Validity the fixture certificates were issued with (the Entra rollover certificate starts later).
const FIXTURE_START = '2024-01-01T00:00:00.000Z';
const ROLLOVER_START = '2026-06-01T00:00:00.000Z';

const ENTRA_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const EMAIL = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const PERSISTENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';

type Expected = Omit<IdpMetadata, 'signingCertificates'> & { fingerprints: string[]; subjects: RegExp[] };

const vendors: [file: string, expected: Expected][] = [
  [
    'entra.xml',
    {
      entityId: `https://sts.windows.net/${ENTRA_TENANT}/`,
      ssoRedirectUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2`,
      ssoPostUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2`,
      sloUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/saml2`,
      fingerprints: [FP.entraCurrent, FP.entraNext],
      subjects: [/CN=Microsoft Azure Federated SSO Certificate$/, /\(rollover\)/],
      nameIdFormats: [],
      wantAuthnRequestsSigned: false,
    },
  ],
  [
    'okta.xml',
    {
      entityId: 'http://www.okta.com/exk1a2b3c4d5E6f7g8h9',
      ssoRedirectUrl: 'https://example.okta.com/app/example_jitprov_1/exk1a2b3c4d5E6f7g8h9/sso/saml',
      ssoPostUrl: 'https://example.okta.com/app/example_jitprov_1/exk1a2b3c4d5E6f7g8h9/sso/saml',
      sloUrl: null,
      fingerprints: [FP.okta],
      subjects: [/CN=dev-12345678/],
      nameIdFormats: [UNSPECIFIED, EMAIL],
      wantAuthnRequestsSigned: false,
    },
  ],
  [
    'adfs.xml',
    {
      entityId: 'http://adfs.example.com/adfs/services/trust',
      ssoRedirectUrl: 'https://adfs.example.com/adfs/ls/',
      ssoPostUrl: 'https://adfs.example.com/adfs/ls/',
      sloUrl: 'https://adfs.example.com/adfs/ls/',
      fingerprints: [FP.adfsSigning],
      subjects: [/CN=ADFS Signing - adfs\.example\.com/],
      nameIdFormats: [EMAIL, PERSISTENT, TRANSIENT],
      wantAuthnRequestsSigned: false,
    },
  ],
  [
    'google.xml',
    {
      entityId: 'https://accounts.google.com/o/saml2?idpid=C01abc2de',
      ssoRedirectUrl: 'https://accounts.google.com/o/saml2/idp?idpid=C01abc2de',
      ssoPostUrl: 'https://accounts.google.com/o/saml2/idp?idpid=C01abc2de',
      sloUrl: null,
      fingerprints: [FP.google],
      subjects: [/CN=Google/],
      nameIdFormats: [EMAIL],
      wantAuthnRequestsSigned: false,
    },
  ],
  [
    'keycloak.xml',
    {
      entityId: 'https://keycloak.example.com/realms/acme',
      ssoRedirectUrl: 'https://keycloak.example.com/realms/acme/protocol/saml',
      ssoPostUrl: 'https://keycloak.example.com/realms/acme/protocol/saml',
      sloUrl: 'https://keycloak.example.com/realms/acme/protocol/saml',
      fingerprints: [FP.keycloak],
      subjects: [/CN=acme/],
      nameIdFormats: [PERSISTENT, TRANSIENT, UNSPECIFIED, EMAIL],
      wantAuthnRequestsSigned: true,
    },
  ],
  [
    'simplesamlphp.xml',
    {
      entityId: 'https://idp.example.org/simplesaml/module.php/saml/idp/metadata',
      ssoRedirectUrl: 'https://idp.example.org/simplesaml/module.php/saml/idp/singleSignOnService',
      ssoPostUrl: null,
      sloUrl: 'https://idp.example.org/simplesaml/module.php/saml/idp/singleLogout',
      fingerprints: [FP.simplesamlphp],
      subjects: [/CN=idp\.example\.org/],
      nameIdFormats: [TRANSIENT],
      wantAuthnRequestsSigned: false,
    },
  ],
];

describe('parseIdpMetadata: vendor metadata', () => {
  it.each(vendors)('%s', (file, expected) => {
    const md = parseIdpMetadata(fixture(file));
    const { fingerprints, subjects, ...fields } = expected;
    const { signingCertificates, ...actualFields } = md;
    expect(actualFields).toEqual(fields);
    expect(signingCertificates.map((c) => c.fingerprintSha256)).toEqual(fingerprints);
    signingCertificates.forEach((cert, i) => {
      expect(cert.pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n$/);
      expect(cert.subject).toMatch(subjects[i]!);
      // Self-signed fixtures: issuer is the subject.
      expect(cert.issuer).toBe(cert.subject);
      expect(cert.notBefore.toISOString()).toBe(i === 1 ? ROLLOVER_START : FIXTURE_START);
      expect(cert.notAfter.getUTCFullYear() - cert.notBefore.getUTCFullYear()).toBe(100);
    });
  });
});

describe('parseIdpMetadata: refused metadata', () => {
  const cases: [file: string, code: ErrorCode, message: RegExp][] = [
    ['sp-only.xml', 'METADATA_NOT_IDP', /no IDPSSODescriptor/],
    ['encryption-key-only.xml', 'METADATA_NO_SIGNING_KEY', /no signing/],
    ['doctype-xxe.xml', 'METADATA_INVALID', /DOCTYPE.*not allowed/],
    ['malformed.xml', 'METADATA_INVALID', /not well-formed XML/],
    [
      'two-idps.xml',
      'METADATA_INVALID',
      /2 IdPs.*https:\/\/idp-a\.example\.edu\/idp\/shibboleth, https:\/\/idp-b\.example\.edu\/idp\/shibboleth$/,
    ],
  ];
  it.each(cases)('%s → %s', (file, code, message) => {
    const err = expectAppError(() => parseIdpMetadata(fixture(file)), code);
    expect(err.message).toMatch(message);
  });

  it('lists the candidate entity ids in details when several IdPs are present', () => {
    const err = expectAppError(() => parseIdpMetadata(fixture('two-idps.xml')), 'METADATA_INVALID');
    expect(err.details.entityIds).toEqual([
      'https://idp-a.example.edu/idp/shibboleth',
      'https://idp-b.example.edu/idp/shibboleth',
    ]);
  });

  it('refuses a lowercase doctype too', () => {
    const xml = fixture('okta.xml').replace('?>', '?><!doctype x>');
    expectAppError(() => parseIdpMetadata(xml), 'METADATA_INVALID');
  });

  it.each([
    ['empty input', ''],
    ['plain text', 'not xml at all'],
    ['two root elements', '<a/><b/>'],
    ['a non-metadata root', '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'],
  ])('refuses %s as METADATA_INVALID', (_label, xml) => {
    expectAppError(() => parseIdpMetadata(xml), 'METADATA_INVALID');
  });
});

describe('parseIdpMetadata: size limit', () => {
  const okta = fixture('okta.xml');

  it('refuses input over MAX_METADATA_BYTES', () => {
    const big = okta.replace(
      '</md:EntityDescriptor>',
      `<!--${'x'.repeat(MAX_METADATA_BYTES)}--></md:EntityDescriptor>`,
    );
    const err = expectAppError(() => parseIdpMetadata(big), 'METADATA_INVALID');
    expect(err.message).toMatch(/larger than/);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const chars = Math.ceil((MAX_METADATA_BYTES - okta.length) / 2) + 10;
    const big = okta.replace('</md:EntityDescriptor>', `<!--${'é'.repeat(chars)}--></md:EntityDescriptor>`);
    expect(big.length).toBeLessThan(MAX_METADATA_BYTES);
    expectAppError(() => parseIdpMetadata(big), 'METADATA_INVALID');
  });

  it('accepts padded input just under the limit', () => {
    const pad = MAX_METADATA_BYTES - Buffer.byteLength(okta) - 100;
    const xml = okta.replace('</md:EntityDescriptor>', `<!--${'x'.repeat(pad)}--></md:EntityDescriptor>`);
    expect(parseIdpMetadata(xml).entityId).toBe('http://www.okta.com/exk1a2b3c4d5E6f7g8h9');
  });
});

describe('parseIdpMetadata: choosing an entity', () => {
  const twoIdps = fixture('two-idps.xml');

  it('picks the entity named by opts.entityId', () => {
    const md = parseIdpMetadata(twoIdps, { entityId: 'https://idp-b.example.edu/idp/shibboleth' });
    expect(md.entityId).toBe('https://idp-b.example.edu/idp/shibboleth');
    expect(md.ssoPostUrl).toBe('https://idp-b.example.edu/idp/profile/SAML2/POST/SSO');
    expect(md.signingCertificates.map((c) => c.fingerprintSha256)).toEqual([FP.idpB]);

    const a = parseIdpMetadata(twoIdps, { entityId: 'https://idp-a.example.edu/idp/shibboleth' });
    expect(a.signingCertificates.map((c) => c.fingerprintSha256)).toEqual([FP.idpA]);
  });

  it('refuses an opts.entityId that is not in the document', () => {
    expectAppError(
      () => parseIdpMetadata(twoIdps, { entityId: 'https://nope.example.edu/' }),
      'METADATA_INVALID',
    );
    expectAppError(
      () => parseIdpMetadata(fixture('okta.xml'), { entityId: 'https://nope/' }),
      'METADATA_INVALID',
    );
  });

  it('refuses an opts.entityId that names an SP', () => {
    expectAppError(
      () => parseIdpMetadata(twoIdps, { entityId: 'https://sp.example.edu/shibboleth' }),
      'METADATA_NOT_IDP',
    );
  });

  it('takes the single IdP of an EntitiesDescriptor without opts.entityId', () => {
    const oneIdp = twoIdps.replace(
      /<md:EntityDescriptor entityID="https:\/\/idp-b[\s\S]*?<\/md:EntityDescriptor>/,
      '',
    );
    expect(parseIdpMetadata(oneIdp).entityId).toBe('https://idp-a.example.edu/idp/shibboleth');
  });
});

// Certificates lifted from the fixtures, to build small documents that isolate one rule each.
const certOf = (file: string): string => {
  const m = /X509Certificate>([^<]+)</.exec(fixture(file));
  if (!m?.[1]) throw new Error(`no certificate in ${file}`);
  return m[1].replace(/\s+/g, '');
};
const CERT = { okta: certOf('okta.xml'), google: certOf('google.xml'), keycloak: certOf('keycloak.xml') };

const keyDescriptor = (cert: string, use?: string) =>
  `<md:KeyDescriptor${use ? ` use="${use}"` : ''}><ds:KeyInfo><ds:X509Data>` +
  `<ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const SSO_REDIRECT = (url: string) =>
  `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${url}"/>`;

function doc(idpInner: string, opts: { before?: string; protocol?: string; entityId?: string } = {}): string {
  const protocol = opts.protocol ?? 'urn:oasis:names:tc:SAML:2.0:protocol';
  return (
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"' +
    ` xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${opts.entityId ?? 'https://idp.example.net/'}">` +
    (opts.before ?? '') +
    `<md:IDPSSODescriptor protocolSupportEnumeration="${protocol}">${idpInner}</md:IDPSSODescriptor>` +
    '</md:EntityDescriptor>'
  );
}

const fingerprints = (md: IdpMetadata) => md.signingCertificates.map((c) => c.fingerprintSha256);

describe('parseIdpMetadata: where signing keys come from', () => {
  const roleDescriptor =
    '<md:RoleDescriptor xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
    ' xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706" xsi:type="fed:SecurityTokenServiceType"' +
    ` protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706">${keyDescriptor(CERT.google, 'signing')}</md:RoleDescriptor>`;
  const spDescriptor =
    '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
    `${keyDescriptor(CERT.keycloak, 'signing')}</md:SPSSODescriptor>`;
  const signature = `<ds:Signature><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${CERT.keycloak}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;

  it('takes only the IDPSSODescriptor keys, not RoleDescriptor, SPSSODescriptor or ds:Signature keys', () => {
    const xml = doc(keyDescriptor(CERT.okta, 'signing') + SSO_REDIRECT('https://idp.example.net/sso'), {
      before: signature + roleDescriptor + spDescriptor,
    });
    expect(fingerprints(parseIdpMetadata(xml))).toEqual([FP.okta]);
  });

  it('does not fall back to RoleDescriptor keys when the IDPSSODescriptor has none', () => {
    const xml = doc(SSO_REDIRECT('https://idp.example.net/sso'), { before: roleDescriptor + spDescriptor });
    expectAppError(() => parseIdpMetadata(xml), 'METADATA_NO_SIGNING_KEY');
  });

  it('treats a KeyDescriptor without use as signing and deduplicates by fingerprint', () => {
    const xml = doc(
      keyDescriptor(CERT.okta) +
        keyDescriptor(CERT.google, 'encryption') +
        keyDescriptor(CERT.okta, 'signing') +
        keyDescriptor(CERT.google, 'signing') +
        SSO_REDIRECT('https://idp.example.net/sso'),
    );
    expect(fingerprints(parseIdpMetadata(xml))).toEqual([FP.okta, FP.google]);
  });

  it('names the index of an unparseable certificate and keeps it out of the message', () => {
    const garbage = 'MIIBbm90IGEgY2VydGlmaWNhdGU=';
    const xml = doc(
      keyDescriptor(CERT.okta, 'signing') +
        keyDescriptor(garbage, 'signing') +
        SSO_REDIRECT('https://idp.example.net/sso'),
    );
    const err = expectAppError(() => parseIdpMetadata(xml), 'METADATA_INVALID');
    expect(err.details.index).toBe(1);
    expect(err.message).toMatch(/certificate 1 /);
    expect(err.message).not.toContain(garbage);
  });

  it('refuses a certificate with characters outside base64', () => {
    const xml = doc(keyDescriptor(`${CERT.okta}!!`, 'signing') + SSO_REDIRECT('https://idp.example.net/sso'));
    expect(expectAppError(() => parseIdpMetadata(xml), 'METADATA_INVALID').details.index).toBe(0);
  });
});

describe('parseIdpMetadata: namespaces, not prefixes', () => {
  it('reads metadata with unusual prefixes', () => {
    const xml =
      '<m:EntityDescriptor xmlns:m="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.net/">' +
      '<m:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><m:KeyDescriptor>' +
      `<sig:KeyInfo xmlns:sig="http://www.w3.org/2000/09/xmldsig#"><sig:X509Data><sig:X509Certificate>${CERT.okta}` +
      '</sig:X509Certificate></sig:X509Data></sig:KeyInfo></m:KeyDescriptor>' +
      '<m:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.net/sso"/>' +
      '</m:IDPSSODescriptor></m:EntityDescriptor>';
    const md = parseIdpMetadata(xml);
    expect(md.ssoPostUrl).toBe('https://idp.example.net/sso');
    expect(fingerprints(md)).toEqual([FP.okta]);
  });

  it('ignores elements whose familiar prefix is bound to another namespace', () => {
    const fakeDs = doc(
      `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="urn:example:not-dsig"><ds:X509Data><ds:X509Certificate>${CERT.okta}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
        SSO_REDIRECT('https://idp.example.net/sso'),
    );
    expectAppError(() => parseIdpMetadata(fakeDs), 'METADATA_NO_SIGNING_KEY');

    const fakeMd = fixture('okta.xml').replace(
      'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"',
      'xmlns:md="urn:example:not-metadata"',
    );
    expectAppError(() => parseIdpMetadata(fakeMd), 'METADATA_INVALID');
  });
});

describe('parseIdpMetadata: entity and endpoint checks', () => {
  const key = keyDescriptor(CERT.okta, 'signing');

  it('refuses a missing or blank entityID', () => {
    expectAppError(
      () => parseIdpMetadata(doc(key + SSO_REDIRECT('https://idp.example.net/sso'), { entityId: '  ' })),
      'METADATA_INVALID',
    );
    const noAttr = fixture('okta.xml').replace(/entityID="[^"]*"/, '');
    expectAppError(() => parseIdpMetadata(noAttr), 'METADATA_INVALID');
  });

  it('refuses an IDPSSODescriptor that does not support SAML 2.0', () => {
    const saml11 = doc(key + SSO_REDIRECT('https://idp.example.net/sso'), {
      protocol: 'urn:oasis:names:tc:SAML:1.1:protocol',
    });
    expectAppError(() => parseIdpMetadata(saml11), 'METADATA_NOT_IDP');
  });

  it.each([
    ['plain http to a remote host', 'http://idp.example.net/sso'],
    ['a relative URL', '/sso'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['an empty Location', ''],
  ])('refuses %s as SSO endpoint', (_label, url) => {
    const err = expectAppError(() => parseIdpMetadata(doc(key + SSO_REDIRECT(url))), 'METADATA_INVALID');
    expect(err.details.path).toEqual([
      'IDPSSODescriptor',
      'SingleSignOnService',
      'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
    ]);
  });

  it.each(['http://127.0.0.1:8080/sso', 'http://localhost:3000/sso'])('accepts loopback http %s', (url) => {
    expect(parseIdpMetadata(doc(key + SSO_REDIRECT(url))).ssoRedirectUrl).toBe(url);
  });

  it('refuses an IdP with no browser SSO binding', () => {
    const soapOnly =
      '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.example.net/soap"/>';
    expectAppError(() => parseIdpMetadata(doc(key + soapOnly)), 'METADATA_INVALID');
  });
});
