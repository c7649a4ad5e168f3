import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import axe from 'axe-core';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { ADMIN_TOKEN, createTestApp, type TestApp } from './test-app.js';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling Google's hosts (closed network).
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface ConsoleHarness {
  t: TestApp;
  /** http://127.0.0.1:<port> */
  base: string;
  browser: Browser;
  /** A fresh browser context and page; its console errors and failed requests are collected. */
  page(): Promise<Page>;
  /** What went wrong in the pages so far: console errors (CSP violations among them), page errors. */
  problems: string[];
  /** Opens /admin<path>, signs in with the token, waits for the console. */
  signIn(page: Page, path?: string, token?: string): Promise<void>;
  close(): Promise<void>;
}

/** The app on a fresh PostgreSQL database behind a real HTTP server on 127.0.0.1, and Chromium. */
export async function startConsole(
  env: Record<string, string> = {},
  opts: { publicUrlIsServer?: boolean } = {},
): Promise<ConsoleHarness> {
  let handler: ((req: Request) => Promise<Response>) | undefined;
  const server: Server = createServer(
    createServerAdapter((req: Request) =>
      handler ? handler(req) : new Response('starting', { status: 503 }),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // PUBLIC_URL is the real server's address when a test needs the browser on our own origin
  // (the session cookie a SAML sign-in sets); otherwise the test constant.
  const t = await createTestApp(opts.publicUrlIsServer ? { ...env, PUBLIC_URL: base } : env);
  handler = (req) => t.app.fetch(req);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const contexts: BrowserContext[] = [];
  const problems: string[] = [];

  return {
    t,
    base,
    browser,
    problems,
    async page() {
      const context = await browser.newContext({ baseURL: base });
      contexts.push(context);
      // Names what the CSP blocked and where (the console message alone does not).
      await context.addInitScript(() =>
        document.addEventListener('securitypolicyviolation', (e) =>
          console.error(
            `CSP blocked ${e.effectiveDirective} at ${e.sourceFile}:${e.lineNumber}: ${e.sample}`,
          ),
        ),
      );
      const page = await context.newPage();
      page.setDefaultTimeout(8000);
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      return page;
    },
    async signIn(page, path = '/connections', token = ADMIN_TOKEN) {
      await page.goto(`/admin${path}`);
      await page.getByLabel('Admin token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
    },
    async close() {
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      await browser.close().catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}

/**
 * axe-core on the page as it stands: no serious or critical violation. Run through the DevTools
 * protocol (page.evaluate), which the page's CSP does not govern: the console's own CSP stays on.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(`${axe.source}\n;0`);
  const violations = (await page.evaluate(async () => {
    const w = window as unknown as {
      axe: {
        run(): Promise<{ violations: { id: string; impact: string; help: string; nodes: unknown[] }[] }>;
      };
    };
    const r = await w.axe.run();
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  })) as { id: string; impact: string; help: string; nodes: number }[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `axe on ${label}`).toEqual([]);
}
