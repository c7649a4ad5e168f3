export { EntraAuthnMethods, EntraClaims, extensionClaim } from './claims.js';
export { type AssertionEncryptionOptions, encryptAssertion } from './encrypt.js';
export { generateIdpKeyPair, type IdpKeyPair } from './keys.js';
export { buildEntraMetadata, type EntraMetadataOptions } from './metadata.js';
export {
  buildSignedResponse,
  buildUnsignedResponse,
  encodeSamlResponse,
  type SignedResponseOptions,
  signResponseXml,
} from './response.js';
