import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepSignInSamples } from '../../src/mapping/samples.sql.js';
import { EntraClaims, entraClaims, TestIdp } from '../helpers/idp.js';
import { addMapping, createConnection } from '../helpers/setup.js';
import { createTestApp, dbId, gql, postAcs, type TestApp } from '../helpers/test-app.js';

/**
 * A mapping set that passes its write-time checks cannot silently lock out the people it is meant
 * for: optional mappings fall back instead of refusing, absent input is no value, runaway
 * expressions and catastrophic patterns are refused when written, and a change that would refuse
 * people who signed in fine is refused unless forced.
 */
const DEPT = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/department';
const CATASTROPHIC = '^(a+)+$';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const transform = (expression: string, extra: Record<string, unknown> = {}) => ({
  kind: 'TRANSFORM',
  plugin: 'expression',
  params: { expression },
  ...extra,
});

async function freshConnection(options: Record<string, unknown> = {}) {
  const idp = await TestIdp.create();
  const id = await createConnection(t.app, idp, options);
  const email = await addMapping(t.app, id, EntraClaims.emailAddress, 'email', true);
  expect(email.__typename).toBe('AttributeMapping');
  return { idp, id };
}

const signIn = (idp: TestIdp, nameId: string, extra: Record<string, string | string[]> = {}) =>
  postAcs(t.app, idp.response(nameId, entraClaims('Pat', 'Doe', nameId, extra)));

const contactOf = async (nameId: string) =>
  (
    await t.sql(
      `select c.department, c.full_name, c.email, c.job_title from contact c join app_user u on u.id = c.user_id
       where u.username = $1`,
      [nameId],
    )
  )[0];

describe('absent input and failure policies', () => {
  it('$uppercase($) on an optional attribute the IdP did not send gives no value, not a refusal', async () => {
    const { idp, id } = await freshConnection();
    expect(
      (await addMapping(t.app, id, DEPT, 'department', false, transform('$uppercase($)'))).__typename,
    ).toBe('AttributeMapping');
    const res = await signIn(idp, 'no-dept@contoso.example');
    expect(res.status).toBe(200);
    expect(res.body.fallbacks).toEqual([]);
    expect(await contactOf('no-dept@contoso.example')).toMatchObject({ department: null });
    const sent = await signIn(idp, 'dept@contoso.example', { [DEPT]: 'sales' });
    expect(sent.status).toBe(200);
    expect(await contactOf('dept@contoso.example')).toMatchObject({ department: 'SALES' });
  });

  it('an optional mapping that fails keeps its column, and the result and the event say which and why', async () => {
    const { idp, id } = await freshConnection({ refreshOnLogin: true });
    const m = await addMapping(
      t.app,
      id,
      DEPT,
      'department',
      false,
      transform('$value = "boom" ? $error("no department today") : $value'),
    );
    expect(m.__typename).toBe('AttributeMapping');
    expect((await signIn(idp, 'kept@contoso.example', { [DEPT]: 'Legal' })).status).toBe(200);
    const res = await signIn(idp, 'kept@contoso.example', { [DEPT]: 'boom' });
    expect(res.status).toBe(200);
    expect(res.body.fallbacks).toEqual([
      expect.objectContaining({
        column: 'department',
        policy: 'KEEP',
        code: 'TRANSFORM_FAILED',
        mappingId: m.id,
      }),
    ]);
    expect(String((res.body.fallbacks as { message: string }[])[0]?.message)).toContain(
      'no department today',
    );
    expect(await contactOf('kept@contoso.example')).toMatchObject({ department: 'Legal' });
    const [event] = await t.sql<{ fallbacks: unknown[] }>(
      `select fallbacks from provisioning_event where name_id = 'kept@contoso.example' order by created_at desc limit 1`,
    );
    expect(event?.fallbacks).toEqual([
      expect.objectContaining({
        column: 'department',
        policy: 'KEEP',
        code: 'TRANSFORM_FAILED',
        mappingId: dbId(String(m.id)),
      }),
    ]);
  });

  it('onFailure DEFAULT writes the default value when the value does not fit its column', async () => {
    const { idp, id } = await freshConnection();
    const m = await addMapping(t.app, id, 'http://example.com/claims/country', 'country', false, {
      defaultValue: 'NL',
      onFailure: 'DEFAULT',
    });
    expect(m.__typename).toBe('AttributeMapping');
    const res = await signIn(idp, 'country@contoso.example', {
      'http://example.com/claims/country': 'Netherlands',
    });
    expect(res.status).toBe(200);
    expect(res.body.fallbacks).toEqual([
      expect.objectContaining({ column: 'country', policy: 'DEFAULT', code: 'MAPPING_VALUE_INVALID' }),
    ]);
    const [c] = await t.sql(
      `select c.country from contact c join app_user u on u.id = c.user_id where u.username = 'country@contoso.example'`,
    );
    expect(c).toEqual({ country: 'NL' });
  });

  it('refuses, when written, a policy that cannot mean anything', async () => {
    const { id } = await freshConnection();
    expect(await addMapping(t.app, id, DEPT, 'department', true, { onFailure: 'KEEP' })).toMatchObject({
      __typename: 'InputError',
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'onFailure'],
    });
    expect(await addMapping(t.app, id, DEPT, 'department', false, { onFailure: 'DEFAULT' })).toMatchObject({
      __typename: 'InputError',
      code: 'MAPPING_INVALID',
      path: ['input', 'mapping', 'onFailure'],
    });
  });
});

describe('write-time safety', () => {
  it.each([
    [
      'a catastrophic regex in an inline expression',
      transform(`$match($value, /${CATASTROPHIC}/)`),
      'PATTERN_UNSAFE',
      ['input', 'mapping', 'params', 'expression'],
    ],
    [
      'a catastrophic regex in regex-extract',
      { kind: 'TRANSFORM', plugin: 'regex-extract', params: { pattern: CATASTROPHIC } },
      'PATTERN_UNSAFE',
      ['input', 'mapping', 'params', 'pattern'],
    ],
    [
      'a sequence of a hundred million',
      transform('$sum([1..100000000])'),
      'MAPPING_DRY_RUN_FAILED',
      ['input', 'mapping', 'params'],
    ],
    [
      'unbounded recursion',
      transform('($f := function($n){ $f($n + 1) }; $f(0))'),
      'MAPPING_DRY_RUN_FAILED',
      ['input', 'mapping', 'params'],
    ],
  ])('refuses %s, naming the mapping', async (_, mapping, code, path) => {
    const { id } = await freshConnection();
    const before = await t.sql(`select count(*)::int n from attribute_mapping`);
    const r = await addMapping(t.app, id, DEPT, 'department', false, mapping);
    expect(r).toMatchObject({ __typename: 'InputError', code, path });
    expect(String(r.message)).toContain('"department"');
    expect(await t.sql(`select count(*)::int n from attribute_mapping`)).toEqual(before);
  });

  it('accepts a linear pattern', async () => {
    const { id } = await freshConnection();
    const r = await addMapping(t.app, id, DEPT, 'department', false, {
      kind: 'TRANSFORM',
      plugin: 'regex-extract',
      params: { pattern: '^CN=([^,]+)' },
    });
    expect(r.__typename).toBe('AttributeMapping');
  });
});

describe('email addresses (RFC 6531)', () => {
  it.each([
    ['björn@example.com', 'björn@example.com'],
    ['山田@example.jp', '山田@example.jp'],
    ['zoë.ångström@exämple.com', 'zoë.ångström@exämple.com'],
    ['ZOE@XN--EXMPLE-CUA.COM', 'ZOE@exämple.com'],
  ])('%s signs in and is stored as %s', async (email, stored) => {
    const { idp } = await freshConnection();
    const nameId = `u${Math.random().toString(36).slice(2)}@contoso.example`;
    const res = await postAcs(t.app, idp.response(nameId, entraClaims('A', 'B', email)));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await contactOf(nameId)).toMatchObject({ email: stored });
  });

  it('still refuses what is not an address, on a required mapping', async () => {
    const { idp } = await freshConnection();
    const res = await postAcs(
      t.app,
      idp.response('bad-mail@contoso.example', entraClaims('A', 'B', 'not an email')),
    );
    expect(res.body).toMatchObject({ error: { code: 'MAPPING_VALUE_INVALID' } });
  });
});

const IMPACT = `impact { sampled wouldRefuse wouldAccept refusals { nameId code column } changes { column people } }`;

describe('the impact check against recent sign-ins', () => {
  it('refuses a change that would refuse people who signed in fine, says who, and saves it when forced', async () => {
    const { idp, id } = await freshConnection();
    await signIn(idp, 'has-dept@contoso.example', { [DEPT]: 'Sales' });
    await signIn(idp, 'no-dept-1@contoso.example');
    await signIn(idp, 'no-dept-2@contoso.example');
    const mapping = { attributeName: DEPT, column: 'department', required: true };

    const check = await gql<{ checkMappingChange: Record<string, unknown> }>(
      t.app,
      `query($input: MappingChangeInput!) { checkMappingChange(input: $input) { ... on MappingImpact { sampled wouldRefuse refusals { nameId code } changes { column people } } } }`,
      { input: { add: { connectionId: id, mapping } } },
    );
    expect(check.errors).toBeUndefined();
    expect(check.data?.checkMappingChange).toMatchObject({
      sampled: 3,
      wouldRefuse: 2,
      changes: [{ column: 'department', people: 1 }],
    });
    const refusals = (check.data?.checkMappingChange.refusals ?? []) as { nameId: string; code: string }[];
    const refusedNames = refusals.map((r) => r.nameId);
    expect(refusedNames.sort()).toEqual(['no-dept-1@contoso.example', 'no-dept-2@contoso.example']);

    const ADD_WITH_IMPACT = `mutation($input: AddAttributeMappingInput!) {
      addAttributeMapping(input: $input) {
        __typename ... on AttributeMapping { id } ... on MappingChangeRefused { code message ${IMPACT} }
      }
    }`;
    const refused = await gql<{ addAttributeMapping: Record<string, unknown> }>(t.app, ADD_WITH_IMPACT, {
      input: { connectionId: id, mapping },
    });
    expect(refused.data?.addAttributeMapping).toMatchObject({
      __typename: 'MappingChangeRefused',
      code: 'MAPPING_WOULD_REFUSE',
      impact: { sampled: 3, wouldRefuse: 2 },
    });
    expect(
      await t.sql(
        `select 1 from attribute_mapping where "column" = 'department' and connection_id = (select connection_id from sign_in_sample where name_id = 'has-dept@contoso.example')`,
      ),
    ).toEqual([]);

    const forced = await gql<{ addAttributeMapping: Record<string, unknown> }>(t.app, ADD_WITH_IMPACT, {
      input: { connectionId: id, mapping, force: true },
    });
    expect(forced.data?.addAttributeMapping).toMatchObject({ __typename: 'AttributeMapping' });
    const [audit] = await t.sql<{ after: { impact: { wouldRefuse: number; forced: boolean } } }>(
      `select after from admin_audit_event where action = 'mapping.add' order by created_at desc limit 1`,
    );
    expect(audit?.after.impact).toMatchObject({ wouldRefuse: 2, forced: true });
    expect((await signIn(idp, 'no-dept-1@contoso.example')).body).toMatchObject({
      error: { code: 'REQUIRED_ATTRIBUTE_MISSING' },
    });
  });

  it('a harmless change passes without force; a connection that keeps no samples checks nothing', async () => {
    const { idp, id } = await freshConnection({ sampleSize: 0 });
    await signIn(idp, 'nosample@contoso.example');
    expect(await t.sql(`select 1 from sign_in_sample where name_id = 'nosample@contoso.example'`)).toEqual(
      [],
    );
    const r = await addMapping(t.app, id, DEPT, 'department', true);
    expect(r.__typename).toBe('AttributeMapping');
  });
});

describe('sign-in samples', () => {
  it('are swept to the connection size and retention', async () => {
    const { idp, id } = await freshConnection();
    for (const n of ['s1', 's2', 's3']) await signIn(idp, `${n}@contoso.example`);
    const connection = dbId(id);
    await t.sql(`update idp_connection set sample_size = 2 where id = $1`, [connection]);
    await t.sql(
      `update sign_in_sample set signed_in_at = now() - interval '40 days' where name_id = 's3@contoso.example'`,
    );
    await sweepSignInSamples(t.orm.em.fork());
    const left = await t.sql<{ name_id: string }>(
      `select name_id from sign_in_sample where connection_id = $1 order by name_id`,
      [connection],
    );
    expect(left.map((r) => r.name_id)).toEqual(['s1@contoso.example', 's2@contoso.example']);
    await t.sql(`update idp_connection set sample_size = 1 where id = $1`, [connection]);
    await sweepSignInSamples(t.orm.em.fork());
    expect(
      await t.sql(`select count(*)::int n from sign_in_sample where connection_id = $1`, [connection]),
    ).toEqual([{ n: 1 }]);
  });
});

describe('previewMappings', () => {
  it('reports a failing transform as a typed row, never a top-level error, and previews recent sign-ins', async () => {
    const { idp, id } = await freshConnection();
    await signIn(idp, 'preview@contoso.example', { [DEPT]: 'x' });
    const r = await gql<{ previewMappings: Record<string, unknown> }>(
      t.app,
      `query($input: PreviewMappingsInput!) { previewMappings(input: $input) {
        ... on MappingPreview { nameId refused rows { column error { code message } fallback }
          samples { nameId refused } impact { sampled wouldRefuse } }
        ... on InputError { code message }
      } }`,
      {
        input: {
          connectionId: id,
          recentSignIns: 10,
          mappings: [
            { attributeName: EntraClaims.emailAddress, column: 'email', required: true },
            {
              kind: 'TRANSFORM',
              column: 'department',
              plugin: 'expression',
              params: { expression: '$error("nope")' },
              attributeName: DEPT,
            },
          ],
        },
      },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.previewMappings).toMatchObject({
      nameId: 'preview@contoso.example',
      refused: false,
      rows: [
        { column: 'email', error: null, fallback: null },
        { column: 'department', error: { code: 'TRANSFORM_FAILED' }, fallback: 'KEEP' },
      ],
      samples: [{ nameId: 'preview@contoso.example', refused: false }],
      impact: { sampled: 1, wouldRefuse: 0 },
    });
  });
});
