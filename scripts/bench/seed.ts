import { connect } from './database.js';

/**
 * 100k people as if they had signed in: users of the connection, a filled contact each, and a grant
 * of every license (with the seat counts to match). Set-based SQL, seconds instead of an hour of
 * sign-ins; the table shapes are the migrations', the row contents bench-made.
 */
export async function seedContacts(databaseUrl: string, count: number): Promise<number> {
  const client = await connect(databaseUrl);
  try {
    const t0 = performance.now();
    await client.query('begin');
    const conn = await client.query<{ id: string }>(
      'select id from idp_connection order by created_at limit 1',
    );
    const connectionId = conn.rows[0]?.id ?? null;
    await client.query(
      `insert into app_user (username, connection_id, created_at, last_login_at)
       select 'seed.' || g || '@contoso.example', $1::uuid,
              now() - make_interval(secs => g), now() - make_interval(secs => g)
       from generate_series(1, $2::int) g`,
      [connectionId, count],
    );
    await client.query(
      `insert into contact (user_id, full_name, given_name, surname, email, job_title, department, country,
                            employee_id, external_id, groups, created_at, updated_at)
       select u.id, 'Seed Person ' || s.n, 'Seed', 'Person ' || s.n, u.username, 'Engineer',
              (array['Finance', 'Sales', 'Engineering', 'Support'])[1 + s.n % 4],
              (array['NL', 'DE', 'FR', 'US'])[1 + s.n % 4], 'S' || s.n, gen_random_uuid()::text,
              array[gen_random_uuid()::text, gen_random_uuid()::text], u.created_at, u.created_at
       from app_user u
       cross join lateral (select substring(u.username from 'seed\\.(\\d+)@')::int as n) s
       where u.username like 'seed.%'`,
    );
    await client.query(
      `insert into license_grant (license_id, user_id, created_at)
       select l.id, u.id, u.created_at from app_user u cross join license l where u.username like 'seed.%'`,
    );
    await client.query(
      `update license l set used = g.n
       from (select license_id, count(*)::int as n from license_grant group by license_id) g
       where g.license_id = l.id`,
    );
    await client.query('commit');
    // The state autovacuum keeps a table in that grew to this size (PostgreSQL 13+ also vacuums after
    // inserts): fresh statistics, and a visibility map, without which every count reads the heap.
    await client.query('vacuum analyze');
    return performance.now() - t0;
  } catch (e) {
    await client.query('rollback').catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
}
