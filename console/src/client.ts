import { Client, cacheExchange, fetchExchange } from 'urql';

/**
 * The GraphQL client for one sign-in. A pasted token lives in this closure only (never in
 * localStorage, sessionStorage or a cookie the page can read): a reload signs the admin out.
 * Without one (token null) the browser's HttpOnly session cookie from a SAML sign-in is sent
 * instead, same-origin only. Every request is a POST carrying the API's CSRF header.
 */
export function createClient(token: string | null): Client {
  return new Client({
    url: '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: (): RequestInit => {
      const headers: Record<string, string> = { 'x-graphql-csrf': '1' };
      if (token === null) return { credentials: 'same-origin', headers };
      headers.authorization = `Bearer ${token}`;
      return { credentials: 'omit', headers };
    },
  });
}
