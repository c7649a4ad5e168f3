import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The admin console, built into console/dist and served by the server at /admin (src/http/console.ts).
 * No inline script ends up in index.html, so the page runs under `script-src 'self'`.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  plugins: [react()],
  resolve: {
    // @rjsf/core's test helper (getTestRegistry, unused here) imports the Ajv validator, which
    // compiles schemas with `new Function` (refused by the CSP): the console's own validator stands in.
    alias: {
      '@rjsf/validator-ajv8': fileURLToPath(new URL('./src/json-schema-validator.ts', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Every asset a file of its own: a data: URL or an inlined script would need a looser CSP.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // One bundle for an admin tool loaded once per session; no need to split it.
    chunkSizeWarningLimit: 1500,
  },
});
