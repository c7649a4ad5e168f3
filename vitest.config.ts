import { defineConfig } from 'vitest/config';

/**
 * Three projects: `unit` needs nothing but Node (plugins, SAML verification, parsers), `integration`
 * a PostgreSQL server it may create databases on, `e2e` also SimpleSAMLphp and Chromium. Run one with
 * `npx vitest run --project unit`.
 */
export default defineConfig({
  resolve: {
    // A test importing `graphql` must get the same copy as graphql-yoga and Pothos.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'plugins/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/server-build.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/global-setup.ts', 'test/helpers/console-build.ts'],
        },
      },
    ],
  },
});
