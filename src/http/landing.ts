import type { Config } from '../config/config.js';

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * `GET /`: a small page that says what is served here and links to it (the admin console, the
 * API, the SP metadata an IdP administrator needs, health). Static, no script, nothing remote.
 */
export function landingPage(config: Pick<Config, 'publicUrl' | 'spEntityId' | 'env'>): Response {
  const link = (href: string, text: string, what: string) =>
    `<li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a> — ${escapeHtml(what)}</li>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>jitprov</title></head>
<body>
<h1>jitprov</h1>
<p>SAML sign-in with just-in-time provisioning.</p>
<ul>
${link('/admin', '/admin', 'the admin console')}
${link('/graphql', '/graphql', config.env === 'development' ? 'the GraphQL API (GraphiQL in the browser)' : 'the GraphQL API (POST)')}
${link('/saml/metadata', '/saml/metadata', `SP metadata for your IdP (entity id ${config.spEntityId})`)}
${link('/readyz', '/readyz', 'readiness')}
</ul>
</body></html>
`;
  return new Response(html, {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    },
  });
}
