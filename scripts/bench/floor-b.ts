import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { EntraClaims } from '../demo-idp/index.js';
import { connect } from './database.js';
import { COUNTRY_CLAIM, DEPARTMENT_CODES, type Person, person } from './people.js';
import { type Summary, summarize } from './stats.js';

type Timed = Summary & { perSecond: number };

export interface FloorBResult {
  /** One call of the sign-in function, as jitprov provisions. */
  first: Timed;
  returning: Timed;
  /** The same transaction statement by statement (BEGIN … COMMIT), as jitprov did before. */
  firstStatements: Timed;
  returningStatements: Timed;
}

const ISSUER = 'https://sts.windows.net/floor-b/';
const one = (v: string | string[] | undefined): string | null =>
  Array.isArray(v) ? (v[0] ?? null) : (v ?? null);

/**
 * The column values the 10 bench mappings give a person (see admin.ts), in mapping order, computed
 * here in plain JS: Floor B times the database work, not the transforms.
 */
function contactValues(p: Person): [column: string, value: string | string[] | null][] {
  const a = p.attributes;
  const department = one(a[EntraClaims.department]);
  return [
    ['given_name', one(a[EntraClaims.givenName])],
    ['surname', one(a[EntraClaims.surname])],
    ['full_name', one(a[EntraClaims.displayName])],
    ['groups', (a[EntraClaims.groups] as string[] | undefined) ?? null],
    ['job_title', one(a[EntraClaims.jobTitle])],
    ['employee_id', one(a[EntraClaims.employeeId])],
    ['external_id', one(a[EntraClaims.objectIdentifier])],
    ['email', one(a[EntraClaims.name])?.toLowerCase() ?? null],
    ['department', department ? (DEPARTMENT_CODES[department] ?? 'Other') : null],
    ['country', one(a[COUNTRY_CLAIM])?.toUpperCase() ?? null],
  ];
}

/**
 * The provisioning transaction of src/provisioning/provision.ts through one plain `pg`
 * connection, back to back: the floor of the database side of a sign-in (no ORM, no pool, no HTTP,
 * no validation). Measured both as jitprov runs it (one call of the jitprov_provision function) and
 * statement by statement inside BEGIN … COMMIT, to show what the round trips cost.
 */
export async function floorB(databaseUrl: string, count: number, warmup: number): Promise<FloorBResult> {
  const client = await connect(databaseUrl);
  try {
    const conn = await client.query<{ id: string }>(
      `insert into idp_connection (name, entity_id, certificates) values ('floor-b', $1, '[]'::jsonb) returning id`,
      [ISSUER],
    );
    const connectionId = conn.rows[0]?.id as string;
    await client.query(
      `insert into license (name, seats) values ('floor-b-crm', null), ('floor-b-bi', 1000000)`,
    );

    const people = (tag: string) =>
      Array.from({ length: count + warmup }, (_, i) => person(`floor-b-${tag}`, i, 'floor-b'));
    const viaFunction = people('fn');
    const first = await timed(viaFunction, warmup, (p) => signInCall(client, connectionId, p, true));
    const returning = await timed(viaFunction, warmup, (p) => signInCall(client, connectionId, p, false));
    const byStatement = people('st');
    const firstStatements = await timed(byStatement, warmup, (p) =>
      transaction(client, connectionId, p, true),
    );
    const returningStatements = await timed(byStatement, warmup, (p) =>
      transaction(client, connectionId, p, false),
    );
    return { first, returning, firstStatements, returningStatements };
  } finally {
    // The bench's own data goes: the jitprov phases start from an empty schema.
    await client.query(
      `truncate consumed_assertion, provisioning_event, user_session, license_grant, user_role, contact,
         app_user, license_rule, license, role_rule, attribute_mapping, sign_in_sample, authn_request, idp_connection cascade`,
    );
    await client.end();
  }
}

async function timed(
  people: readonly Person[],
  warmup: number,
  run: (p: Person) => Promise<void>,
): Promise<Summary & { perSecond: number }> {
  for (const p of people.slice(0, warmup)) await run(p);
  const rest = people.slice(warmup);
  const samples: number[] = [];
  const t0 = performance.now();
  for (const p of rest) {
    const t = performance.now();
    await run(p);
    samples.push(performance.now() - t);
  }
  return { ...summarize(samples), perSecond: (rest.length * 1000) / (performance.now() - t0) };
}

type Row = Record<string, unknown>;

/** The provisioning function with the input the provisioning core gives it (src/provisioning/provision.ts). */
async function signInCall(client: pg.Client, connectionId: string, p: Person, expectNew: boolean) {
  const values = Object.fromEntries(contactValues(p).filter(([, v]) => v !== null));
  const changes = Object.entries(values).map(([column, v]) => ({
    column,
    old: null,
    new: v,
    mappingId: randomUUID(),
  }));
  const token = `jps_${randomBytes(32).toString('base64url')}`;
  const input = {
    connectionId,
    configVersion: 1,
    username: p.nameId,
    isAdmin: false,
    via: 'ACS_POST',
    credential: {
      issuer: ISSUER,
      id: `_${randomUUID()}`,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    session: {
      hash: createHash('sha256').update(token).digest('hex'),
      expiresAt: new Date(Date.now() + 8 * 3_600_000).toISOString(),
    },
    create: { values, changes },
  };
  const { rows } = await client.query<{ r: { created: boolean } }>(
    'select jitprov_provision($1::jsonb) as r',
    [JSON.stringify(input)],
  );
  if (rows[0]?.r.created !== expectNew) throw new Error(`floor B: ${p.nameId} created=${rows[0]?.r.created}`);
}

async function transaction(client: pg.Client, connectionId: string, p: Person, expectNew: boolean) {
  const q = async (text: string, values: unknown[] = []): Promise<Row[]> =>
    (await client.query<Row>(text, values)).rows;
  await q('begin');
  try {
    const consumed = await q(
      `insert into consumed_assertion (issuer, assertion_id, expires_at) values ($1, $2, $3)
       on conflict do nothing returning assertion_id`,
      [ISSUER, `_${randomUUID()}`, new Date(Date.now() + 3_600_000)],
    );
    if (consumed.length === 0) throw new Error('floor B: replay');
    const touch = await q(
      `update app_user set last_login_at = now() where username = $1 returning id, status, connection_id`,
      [p.nameId],
    );
    let user = touch[0];
    if (!user) {
      user = (
        await q(
          `insert into app_user (username, connection_id, last_login_at) values ($1, $2, now())
           on conflict (username) do update set last_login_at = excluded.last_login_at
           returning id, status, connection_id, (xmax = 0) as created`,
          [p.nameId, connectionId],
        )
      )[0] as Row;
    }
    const userId = String(user.id);
    if ((user.created === true) !== expectNew)
      throw new Error(`floor B: ${p.nameId} created=${user.created}`);
    let granted: Row[] = [];
    let changes: { column: string; old: null; new: unknown; mappingId: string }[] = [];
    if (expectNew) {
      const values = contactValues(p).filter(([, v]) => v !== null);
      // The audit row carries one change per written column, as planContactWrite reports them.
      changes = values.map(([column, v]) => ({ column, old: null, new: v, mappingId: randomUUID() }));
      const placeholders = values.map(([column], k) =>
        column === 'groups' ? `array(select jsonb_array_elements_text($${k + 2}::jsonb))` : `$${k + 2}`,
      );
      await q(
        `insert into contact (user_id${values.map(([c]) => `, "${c}"`).join('')})
         values ($1, ${placeholders.join(', ')}) returning id`,
        [userId, ...values.map(([, v]) => (Array.isArray(v) ? JSON.stringify(v) : v))],
      );
      granted = await q(
        `with available as (
           select id from license where active and (seats is null or used < seats) order by id for update
         )
         update license l set used = l.used + 1 from available
         where l.id = available.id and (l.seats is null or l.used < l.seats)
         returning l.id, l.name`,
      );
      if (granted.length > 0) {
        await q(
          `insert into license_grant (license_id, user_id)
           select id::uuid, $1 from jsonb_array_elements_text($2::jsonb) id`,
          [userId, JSON.stringify(granted.map((g) => g.id))],
        );
      }
    } else {
      await q('select id from contact where user_id = $1', [userId]);
    }
    const token = `jps_${randomBytes(32).toString('base64url')}`;
    await q(`insert into user_session (token_hash, user_id, expires_at) values ($1, $2, $3) returning id`, [
      createHash('sha256').update(token).digest('hex'),
      userId,
      new Date(Date.now() + 8 * 3_600_000),
    ]);
    await q(
      `insert into provisioning_event
         (connection_id, user_id, name_id, issuer, assertion_id, outcome, changes, licenses_granted, via)
       values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9)`,
      [
        connectionId,
        userId,
        p.nameId,
        ISSUER,
        `_${randomUUID()}`,
        expectNew ? 'CREATED' : 'SIGNED_IN',
        JSON.stringify(changes),
        JSON.stringify(granted.map((g) => g.name)),
        'ACS_POST',
      ],
    );
    await q('commit');
  } catch (e) {
    await q('rollback');
    throw e;
  }
}
