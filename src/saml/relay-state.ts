import { AppError } from '../errors.js';

const MAX_LENGTH = 2048;
// Printable ASCII without space and backslash: browsers strip tabs and newlines from URLs and read
// `\` as `/`, which is how "/\evil.example" and "/\t/evil.example" become protocol-relative.
const SAFE = /^[\x21-\x5b\x5d-\x7e]+$/;

export interface RedirectPolicy {
  /**
   * The absolute URL to send the browser to after sign-in, or null for none. Throws
   * SAML_RELAY_STATE_FORBIDDEN for anything that is not a path on, or a URL of, an allowed origin.
   */
  target(relayState: string | null | undefined): string | null;
}

export function createRedirectPolicy(opts: {
  publicUrl: string;
  allowedOrigins: readonly string[];
}): RedirectPolicy {
  const allowed = new Set(opts.allowedOrigins);
  const base = new URL(opts.publicUrl);

  function target(relayState: string | null | undefined): string | null {
    if (relayState === null || relayState === undefined || relayState === '') return null;
    const forbidden = () =>
      new AppError('SAML_RELAY_STATE_FORBIDDEN', 'RelayState is not an allowed redirect target', {
        path: ['RelayState'],
        allowedOrigins: [...allowed],
      });
    if (relayState.length > MAX_LENGTH || !SAFE.test(relayState)) throw forbidden();
    // A path must be absolute on our origin; "//host" is another host, whatever follows.
    const isPath = relayState.startsWith('/');
    if (isPath && relayState.startsWith('//')) throw forbidden();
    let url: URL;
    try {
      url = isPath ? new URL(relayState, base) : new URL(relayState);
    } catch {
      throw forbidden();
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw forbidden();
    if (url.username !== '' || url.password !== '' || !allowed.has(url.origin)) throw forbidden();
    return url.href;
  }

  return { target };
}
