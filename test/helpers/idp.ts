import { randomUUID } from 'node:crypto';
import {
  buildEntraMetadata,
  buildSignedResponse,
  EntraClaims,
  encodeSamlResponse,
  generateIdpKeyPair,
  type IdpKeyPair,
  type SignedResponseOptions,
} from '../../src/demo-idp/index.js';
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
    return encodeSamlResponse(
      buildSignedResponse({
        key: this.key,
        issuer: this.entityId,
        audience: `${PUBLIC_URL}/saml/metadata`,
        destination: `${PUBLIC_URL}/saml/acs`,
        nameId,
        attributes,
        ...overrides,
      }),
    );
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
