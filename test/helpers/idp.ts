import { randomUUID } from 'node:crypto';
import {
  buildEntraMetadata,
  buildSignedResponse,
  buildUnsignedResponse,
  EntraClaims,
  encodeSamlResponse,
  generateIdpKeyPair,
  type IdpKeyPair,
  type SignedResponseOptions,
  signResponseXml,
} from '../../scripts/demo-idp/index.js';
import { PUBLIC_URL } from './test-app.js';

export { EntraClaims };

/** A test IdP with a real RSA key, shaped like an Entra ID tenant. */
export class TestIdp {
  private constructor(
    readonly key: IdpKeyPair,
    readonly entityId: string,
  ) {}

  static async create(tenant: string = randomUUID()): Promise<TestIdp> {
    return new TestIdp(await generateIdpKeyPair(), `https://sts.windows.net/${tenant}/`);
  }

  metadata(extraCertPems: string[] = []): string {
    return buildEntraMetadata({
      entityId: this.entityId,
      ssoUrl: `https://login.microsoftonline.com/${this.entityId.split('/')[3]}/saml2`,
      certPems: [this.key.certPem, ...extraCertPems],
    });
  }

  /** A signed, base64-encoded SAMLResponse for our SP. */
  response(
    nameId: string,
    attributes: Record<string, string | string[]> = {},
    overrides: Partial<SignedResponseOptions> = {},
  ): string {
    return encodeSamlResponse(this.signedXml(nameId, attributes, overrides));
  }

  /** The signed Response as XML, for tests that take it apart (signature wrapping and the like). */
  signedXml(
    nameId: string,
    attributes: Record<string, string | string[]> = {},
    overrides: Partial<SignedResponseOptions> = {},
  ): string {
    return buildSignedResponse({ ...this.defaults(nameId, attributes), ...overrides });
  }

  /** The Response before signing: alter it, then `sign` it, to test what a signed assertion says. */
  unsignedXml(
    nameId: string,
    attributes: Record<string, string | string[]> = {},
    overrides: Partial<SignedResponseOptions> = {},
  ): string {
    return buildUnsignedResponse({ ...this.defaults(nameId, attributes), ...overrides });
  }

  sign(
    xml: string,
    opts: Partial<Pick<SignedResponseOptions, 'sign' | 'signatureAlgorithm' | 'digestAlgorithm'>> = {},
  ): string {
    return signResponseXml(xml, { key: this.key, ...opts });
  }

  private defaults(nameId: string, attributes: Record<string, string | string[]>): SignedResponseOptions {
    return {
      key: this.key,
      issuer: this.entityId,
      audience: `${PUBLIC_URL}/saml/metadata`,
      destination: `${PUBLIC_URL}/saml/acs`,
      nameId,
      attributes,
    };
  }
}

/** Entra-style claims for a person. */
export function entraClaims(
  given: string,
  surname: string,
  email: string,
  extra: Record<string, string | string[]> = {},
) {
  return {
    [EntraClaims.givenName]: given,
    [EntraClaims.surname]: surname,
    [EntraClaims.emailAddress]: email,
    [EntraClaims.displayName]: `${given} ${surname}`,
    ...extra,
  };
}
