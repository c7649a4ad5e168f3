import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { expectRefusedWritingOnlyAudit } from '../helpers/refusal.js';
import { addEntraMappings, createConnection } from '../helpers/setup.js';
import { createTestApp, dbId, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * A sign-in's validation and transforms travel to the workers as one job. A transform that runs
 * away is stopped at its deadline without taking the validation down with it (the refusal names
 * the person) or the sign-ins of others.
 */
let t: TestApp;
let runaway: TestIdp;
let calm: TestIdp;

beforeAll(async () => {
  t = await createTestApp();
  runaway = await TestIdp.create();
  calm = await TestIdp.create();
  const runawayId = await createConnection(t.app, runaway);
  await addEntraMappings(t.app, runawayId);
  await addEntraMappings(t.app, await createConnection(t.app, calm));
  // Written past the API's checks, as a mapping saved before they existed would be.
  await t.sql(
    `insert into attribute_mapping (connection_id, position, attribute_name, "column", kind, plugin, params, on_failure)
     values ($1, 99, $2, 'department', 'TRANSFORM', 'expression', $3, 'REFUSE')`,
    [dbId(runawayId), EntraClaims.department, JSON.stringify({ expression: '$match($value, /^(a+)+$/)' })],
  );
});
afterAll(() => t.close());

describe('a runaway transform in a sign-in, its mapping refusing on failure', () => {
  it('refuses that sign-in with TRANSFORM_TIMEOUT, audited with who it was, while others sign in', async () => {
    const nameId = 'runaway@contoso.example';
    const refused = postAcs(
      t.app,
      runaway.response(
        nameId,
        entraClaims('Run', 'Away', nameId, { [EntraClaims.department]: `${'a'.repeat(40)}!` }),
      ),
    );
    const others = Array.from({ length: 4 }, (_, i) =>
      postAcs(
        t.app,
        calm.response(`calm${i}@contoso.example`, entraClaims('Calm', String(i), `calm${i}@contoso.example`)),
      ),
    );
    const [stopped, ...fine] = await Promise.all([refused, ...others]);
    expect(stopped.body).toMatchObject({ error: { code: 'TRANSFORM_TIMEOUT' } });
    expect(fine.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const [event] = await t.sql(
      `select outcome, error_code, name_id, assertion_id is not null as has_assertion from provisioning_event
       where name_id = $1`,
      [nameId],
    );
    expect(event).toEqual({
      outcome: 'REJECTED',
      error_code: 'TRANSFORM_TIMEOUT',
      name_id: nameId,
      has_assertion: true,
    });
    expect(await t.sql(`select 1 from app_user where username = $1`, [nameId])).toEqual([]);
  });

  it('writes nothing but its audit event', async () => {
    const nameId = 'runaway2@contoso.example';
    await expectRefusedWritingOnlyAudit(
      t,
      runaway.response(
        nameId,
        entraClaims('Run', 'Again', nameId, { [EntraClaims.department]: `${'a'.repeat(40)}!` }),
      ),
      'TRANSFORM_TIMEOUT',
    );
  });
});
