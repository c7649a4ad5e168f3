-- License seats: the one place they are taken and given back, by sign-ins and admin grants alike.
-- The current text of these functions; migrations/ holds the copies that created them, and
-- test/integration/sql-functions.test.ts fails when the two differ.

-- Grants `p_user` each license of `p_licenses` (null: every active license) that has a free seat and
-- that the user does not hold yet, taking one seat of each; returns what it granted. The license
-- rows are locked in id order (no deadlock between two callers) and the seat condition is checked
-- again on the locked row, in the statement that takes the seat: never more grants than seats,
-- however many callers race (the CHECK constraint on license stands behind it).
-- (PL/pgSQL rather than SQL: its statements' plans are kept between calls.)
create or replace function jitprov_take_seats(p_user uuid, p_licenses uuid[])
  returns table (id uuid, name varchar) language plpgsql as $$
#variable_conflict use_column
begin
  return query
  with candidates as (
    select l.id from license l
    where l.active
      and (p_licenses is null or l.id = any (p_licenses))
      and (l.seats is null or l.used < l.seats)
      and not exists (select from license_grant g where g.license_id = l.id and g.user_id = p_user)
    order by l.id
    for update
  ), granted as (
    update license l set used = l.used + 1 from candidates c
    where l.id = c.id and (l.seats is null or l.used < l.seats)
    returning l.id, l.name
  ), grants as (
    insert into license_grant (license_id, user_id) select g.id, p_user from granted g
  )
  select granted.id, granted.name from granted;
end $$;

-- Takes back the grants of `p_licenses` (null: every license) from `p_user` and frees their seats;
-- returns the licenses it released.
create or replace function jitprov_release_seats(p_user uuid, p_licenses uuid[])
  returns table (id uuid, name varchar) language plpgsql as $$
#variable_conflict use_column
begin
  return query
  with released as (
    delete from license_grant g
    where g.user_id = p_user and (p_licenses is null or g.license_id = any (p_licenses))
    returning g.license_id
  )
  update license l set used = l.used - 1 from released r where l.id = r.license_id
  returning l.id, l.name;
end $$;
