-- A version on each IdP connection, bumped by the database whenever the connection or one of its
-- attribute mappings changes, whichever process or statement changes it: sign-ins keep connections
-- and their mappings in memory and check this version inside the provisioning transaction.
-- The current text of these trigger functions (the triggers themselves are in the migration
-- Migration20261129130000_config_version); test/integration/sql-functions.test.ts holds the two
-- in step.

-- An update that sets the version itself (the mapping trigger below) is not bumped twice: the
-- trigger runs only when the version is unchanged.
create or replace function idp_connection_bump_config_version() returns trigger language plpgsql as $$
begin
  new.config_version := old.config_version + 1;
  return new;
end $$;

-- The parts of a connection's configuration kept in tables of their own (attribute mappings,
-- license rules, role rules: each with a connection_id) bump their connection.
create or replace function attribute_mapping_bump_config_version() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then
    update idp_connection set config_version = config_version + 1 where id = old.connection_id;
  end if;
  if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.connection_id <> old.connection_id) then
    update idp_connection set config_version = config_version + 1 where id = new.connection_id;
  end if;
  return null;
end $$;

-- An admin-defined contact field is part of every connection's mapping configuration.
create or replace function contact_field_bump_config_version() returns trigger language plpgsql as $$
begin
  update idp_connection set config_version = config_version + 1;
  return null;
end $$;
