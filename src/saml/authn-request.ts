import { randomBytes, sign } from 'node:crypto';
import { SAML } from '@node-saml/node-saml';

/** What an SP-initiated sign-in needs of a connection. */
export interface AuthnRequestTarget {
  /** The IdP's HTTP-Redirect SingleSignOnService. */
  ssoRedirectUrl: string;
  certificates: readonly { pem: string }[];
  /** The NameID Format to ask for; null asks for none. */
  nameIdFormat?: string | null;
}

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The HTTP-Redirect binding URL. The signature covers the exact query string sent: node-saml signs
 * querystring's encoding but sends URLSearchParams', which differ on ' ( ) ! ~, and browsers
 * re-encode ' in a query on their own. Encoding every one of them leaves nothing to re-encode, so
 * the IdP verifies the very bytes signed.
 */
function redirectUrl(
  entryPoint: string,
  samlRequest: string,
  relayState: string | null,
  signingKeyPem: string | null,
): string {
  let query = `SAMLRequest=${encode(samlRequest)}`;
  if (relayState) query += `&RelayState=${encode(relayState)}`;
  if (signingKeyPem) {
    query += `&SigAlg=${encode(RSA_SHA256)}`;
    const signature = sign('sha256', Buffer.from(query), signingKeyPem).toString('base64');
    query += `&Signature=${encode(signature)}`;
  }
  return `${entryPoint}${entryPoint.includes('?') ? '&' : '?'}${query}`;
}

/**
 * An AuthnRequest for the IdP, as the HTTP-Redirect URL that carries it (signed when a key is
 * given), and the request id its answer's InResponseTo must name.
 */
export async function buildAuthnRequest(opts: {
  target: AuthnRequestTarget;
  spEntityId: string;
  acsUrl: string;
  relayState: string | null;
  signingKeyPem: string | null;
}): Promise<{ requestId: string; url: string }> {
  const requestId = `_${randomBytes(20).toString('hex')}`;
  const saml = new SAML({
    entryPoint: opts.target.ssoRedirectUrl,
    issuer: opts.spEntityId,
    callbackUrl: opts.acsUrl,
    idpCert: opts.target.certificates.map((c) => c.pem),
    identifierFormat: opts.target.nameIdFormat ?? null,
    // node-saml would ask for PasswordProtectedTransport "exact", which refuses MFA and passkeys.
    disableRequestedAuthnContext: true,
    generateUniqueId: () => requestId,
  });
  // node-saml builds and deflates the request; the query string is ours (see redirectUrl).
  const built = new URL(await saml.getAuthorizeUrlAsync('', undefined, {}));
  const url = redirectUrl(
    opts.target.ssoRedirectUrl,
    built.searchParams.get('SAMLRequest') ?? '',
    opts.relayState,
    opts.signingKeyPem,
  );
  return { requestId, url };
}
