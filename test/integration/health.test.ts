import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openOrm } from '../../src/orm.js';
import {
  ADMIN_TOKEN,
  createTestApp,
  createTestDatabase,
  PUBLIC_URL,
  sharedWorkers,
  type TestApp,
} from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const get = (app: TestApp['app'], path: string) => app.fetch(new Request(`${PUBLIC_URL}${path}`));

describe('health and metadata routes', () => {
  it('answers liveness and readiness', async () => {
    expect((await get(t.app, '/healthz')).status).toBe(200);
    const ready = await get(t.app, '/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('publishes SP metadata with our entity id and ACS URL', async () => {
    const res = await get(t.app, '/saml/metadata');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('xml');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${PUBLIC_URL}/saml/metadata"`);
    expect(xml).toContain(`Location="${PUBLIC_URL}/saml/acs"`);
    expect(xml).toContain('urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST');
  });

  it('answers unknown routes with a typed 404', async () => {
    const res = await get(t.app, '/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('fails readiness while the database is unreachable, and liveness still answers', async () => {
    const db = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', PUBLIC_URL, ADMIN_TOKEN, DATABASE_URL: db.url });
    const orm = await openOrm({ databaseUrl: db.url, poolSize: 2 });
    const app = createApp({ config, orm, logger: pino({ level: 'silent' }), workers: await sharedWorkers() });
    try {
      expect((await get(app, '/readyz')).status).toBe(200);
      await db.drop(); // terminates the pool's connections; new ones are refused
      const res = await get(app, '/readyz');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
      expect((await get(app, '/healthz')).status).toBe(200);
    } finally {
      await orm.close().catch(() => {});
    }
  });
});
