export { EntraAuthnMethods, EntraClaims, extensionClaim } from './claims.js';
export { generateIdpKeyPair, type IdpKeyPair } from './keys.js';
export { buildEntraMetadata, type EntraMetadataOptions } from './metadata.js';
export { buildSignedResponse, encodeSamlResponse, type SignedResponseOptions } from './response.js';
