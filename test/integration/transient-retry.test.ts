import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { entraClaims, TestIdp } from '../helpers/idp.js';
import { addEntraMappings, createConnection, createLicense } from '../helpers/setup.js';
import { createTestApp, gql, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * Serialization failures (40001) and deadlocks (40P01) are run again inside the sign-in, bounded:
 * forced here by a trigger in this test's own database that fails the user insert the first N
 * times (a sequence counts the tries: sequences are not rolled back with the aborted transaction).
 */
let t: TestApp;
let idp: TestIdp;

beforeAll(async () => {
  [t, idp] = await Promise.all([createTestApp(), TestIdp.create()]);
  const connectionId = await createConnection(t.app, idp);
  await addEntraMappings(t.app, connectionId);
  await createLicense(t.app, 'Retried seats', 10);
  await t.sql('create sequence test_fault_tries');
});
afterAll(() => t?.close());

/** The next `times` inserts of a user fail with `sqlstate`; returns how many tries were made. */
async function failUserInserts(sqlstate: string, times: number): Promise<() => Promise<number>> {
  await t.sql('alter sequence test_fault_tries restart with 1');
  await t.sql(`
    create or replace function test_fault() returns trigger language plpgsql as $$
    begin
      if nextval('test_fault_tries') <= ${times} then
        raise exception 'forced by the test' using errcode = '${sqlstate}';
      end if;
      return new;
    end $$`);
  await t.sql('drop trigger if exists test_fault on app_user');
  await t.sql(
    'create trigger test_fault before insert on app_user for each row execute function test_fault()',
  );
  return async () => {
    const [row] = await t.sql<{ n: string }>('select last_value as n from test_fault_tries');
    return Number(row?.n ?? 0);
  };
}

const rowsFor = async (username: string) =>
  (
    await t.sql<{
      users: number;
      grants: number;
      assertions: number;
      created: number;
      rejected: number;
      code: string | null;
    }>(
      `select (select count(*)::int from app_user where username = $1) as users,
              (select count(*)::int from license_grant g join app_user u on u.id = g.user_id where u.username = $1) as grants,
              (select count(*)::int from consumed_assertion a
                 where a.assertion_id in (select assertion_id from provisioning_event where name_id = $1)) as assertions,
              (select count(*)::int from provisioning_event where name_id = $1 and outcome = 'CREATED') as created,
              (select count(*)::int from provisioning_event where name_id = $1 and outcome = 'REJECTED') as rejected,
              (select max(error_code) from provisioning_event where name_id = $1 and outcome = 'REJECTED') as code`,
      [username],
    )
  )[0];

beforeEach(async () => {
  await t.sql('drop trigger if exists test_fault on app_user');
});

describe('transient database failures inside the sign-in', () => {
  for (const [sqlstate, name] of [
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
  ] as const) {
    it(`runs the transaction again after a ${name} (${sqlstate}) and signs the person in once`, async () => {
      const tries = await failUserInserts(sqlstate, 2);
      const user = `retry-${sqlstate}@contoso.example`;
      const r = await postAcs(t.app, idp.response(user, entraClaims('Re', 'Try', user)));
      expect(r.status).toBe(200);
      expect(r.body.created).toBe(true);
      expect(await tries()).toBe(3);
      expect(await rowsFor(user)).toEqual({
        users: 1,
        grants: 1,
        assertions: 1,
        created: 1,
        rejected: 0,
        code: null,
      });
    });
  }

  it('gives up after five attempts with a typed 503 and Retry-After, having written only the refusal', async () => {
    const tries = await failUserInserts('40001', 1000);
    const user = 'always-conflicting@contoso.example';
    const res = await postAcs(t.app, idp.response(user, entraClaims('Al', 'Ways', user)));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'DATABASE_CONTENTION' } });
    expect(JSON.stringify(res.body)).not.toMatch(/forced by the test|40001/);
    expect(await tries()).toBe(5);
    expect(await rowsFor(user)).toEqual({
      users: 0,
      grants: 0,
      assertions: 0,
      created: 0,
      rejected: 1,
      code: 'DATABASE_CONTENTION',
    });
    const seats = await t.sql<{ used: number }>(`select used from license where name = 'Retried seats'`);
    expect(seats[0]?.used).toBe(2);
  });

  it('answers the GraphQL handoff with a SignInError DATABASE_CONTENTION, not an internal error', async () => {
    await failUserInserts('40P01', 1000);
    const user = 'handed-over-conflicting@contoso.example';
    const r = await gql<{ samlAcs: { __typename: string; code?: string } }>(
      t.app,
      `mutation($r: String!) { samlAcs(input: { samlResponse: $r }) { __typename ... on SignInError { code } } }`,
      { r: idp.response(user, entraClaims('Ha', 'Nd', user)) },
      null,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.samlAcs).toEqual({ __typename: 'SignInError', code: 'DATABASE_CONTENTION' });
  });
});
