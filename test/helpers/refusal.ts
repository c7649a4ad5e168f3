import { expect } from 'vitest';
import { postAcs, type TestApp } from './test-app.js';

/** Row counts of everything a sign-in may write, to prove what a refusal did not write. */
export async function signInCounts(t: TestApp): Promise<Record<string, number>> {
  const [row] = await t.sql<Record<string, string>>(
    `select (select count(*) from app_user) as users, (select count(*) from contact) as contacts,
            (select count(*) from license_grant) as grants, (select count(*) from consumed_assertion) as consumed,
            (select count(*) from user_session) as sessions, (select coalesce(sum(used), 0) from license) as used,
            (select count(*) from authn_request where consumed_by is null) as requests,
            (select count(*) from provisioning_event) as events`,
  );
  return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
}

type Post = () => Promise<{ status: number; body: Record<string, unknown> }>;

/**
 * Posts (a SAMLResponse to the ACS, or whatever `post` sends) and expects a clean 4xx with `code`,
 * and that the only row written is the REJECTED audit event carrying that code: no user, contact,
 * grant, seat, session, replay record, and no outstanding AuthnRequest consumed.
 */
export async function expectRefusedWritingOnlyAudit(
  t: TestApp,
  samlResponseOrPost: string | Post,
  code: string,
): Promise<Record<string, unknown>> {
  const post: Post =
    typeof samlResponseOrPost === 'string' ? () => postAcs(t.app, samlResponseOrPost) : samlResponseOrPost;
  const before = await signInCounts(t);
  const res = await post();
  expect(res.body).toMatchObject({ error: { code } });
  expect(res.status).toBeGreaterThanOrEqual(400);
  expect(res.status).toBeLessThan(500);
  expect(await signInCounts(t)).toEqual({ ...before, events: before.events! + 1 });
  const [event] = await t.sql(
    `select outcome, error_code from provisioning_event order by created_at desc limit 1`,
  );
  expect(event).toEqual({ outcome: 'REJECTED', error_code: code });
  return res.body;
}
