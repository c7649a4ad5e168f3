import { Client, cacheExchange, fetchExchange } from 'urql';

/**
 * The GraphQL client for one sign-in. The token lives in this closure only (never in
 * localStorage, sessionStorage or a cookie the page can read): a reload signs the admin out.
 * Every request is a POST carrying the API's CSRF header.
 */
export function createClient(token: string): Client {
  return new Client({
    url: '/graphql',
    exchanges: [cacheExchange, fetchExchange],
    preferGetMethod: false,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({
      credentials: 'omit',
      headers: { authorization: `Bearer ${token}`, 'x-graphql-csrf': '1' },
    }),
  });
}
