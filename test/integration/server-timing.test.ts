import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/test-app.js';

/**
 * SERVER_TIMING=true: every successful ACS answer says how long its stages took, so an operator (and
 * `npm run bench`) can see where a sign-in's time goes. Off by default; never on a refusal.
 */
let on: TestApp;
let off: TestApp;
let idp: TestIdp;

const post = (t: TestApp, samlResponse: string, accept = 'application/json') =>
  t.app.fetch(
    new Request(`${PUBLIC_URL}/saml/acs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
      body: new URLSearchParams({ SAMLResponse: samlResponse }).toString(),
    }),
  );

/** `name;dur=1.23, …` → { name: 1.23, … } */
const stages = (header: string | null): Record<string, number> =>
  Object.fromEntries(
    (header ?? '').split(', ').map((entry) => {
      const [name, dur] = entry.split(';dur=');
      return [name, Number(dur)];
    }),
  );

beforeAll(async () => {
  [on, off, idp] = await Promise.all([
    createTestApp({ SERVER_TIMING: 'true' }),
    createTestApp(),
    TestIdp.create(),
  ]);
  for (const t of [on, off]) {
    const connectionId = await createConnection(t.app, idp);
    await addEntraMappings(t.app, connectionId);
    await addMapping(t.app, connectionId, EntraClaims.displayName, 'fullName', false, {
      kind: 'TRANSFORM',
      plugin: 'lowercase-trim',
      params: {},
    });
  }
});
afterAll(() => Promise.all([on?.close(), off?.close()]));

describe('Server-Timing on the ACS', () => {
  it('names the validation, transforms and database stages and the whole ACS, in ms', async () => {
    for (const accept of ['application/json', 'text/html']) {
      const user = `timed-${accept.split('/')[1]}@contoso.example`;
      const res = await post(on, idp.response(user, entraClaims('Tim', 'Ed', user)), accept);
      expect(res.status).toBe(200);
      const t = stages(res.headers.get('server-timing'));
      expect(Object.keys(t)).toEqual(['validation', 'transforms', 'db', 'acs']);
      for (const ms of Object.values(t)) expect(ms).toBeGreaterThan(0);
      // Sequential stages inside the ACS: their sum cannot exceed it (2 decimals each).
      expect((t.validation ?? 0) + (t.transforms ?? 0) + (t.db ?? 0)).toBeLessThanOrEqual(
        (t.acs ?? 0) + 0.02,
      );
    }
  });

  it('is absent by default', async () => {
    const res = await post(
      off,
      idp.response('untimed@contoso.example', entraClaims('Un', 'Timed', 'u@contoso.example')),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toBeNull();
  });

  it('is absent from a refusal', async () => {
    const res = await post(
      on,
      idp.response('timed-json@contoso.example', {}, { audience: 'https://elsewhere.example' }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('server-timing')).toBeNull();
  });

  it('refuses a SERVER_TIMING that is not true or false at start', () => {
    expect(() => loadConfig({ NODE_ENV: 'test', SERVER_TIMING: 'yes' })).toThrow(/SERVER_TIMING/);
  });
});
