import { Migration } from '@mikro-orm/migrations';

/**
 * A version on each IdP connection, bumped by the database whenever the connection or one of its
 * attribute mappings changes, whichever process or statement changes it. The ACS keeps connections
 * and their mappings in memory and checks this version inside the provisioning transaction, so a
 * sign-in never provisions with a configuration that has changed since it was read.
 */
export class Migration20261129130000ConfigVersion extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "idp_connection" add column "config_version" integer not null default 1`);
    this.addSql(`create function "idp_connection_bump_config_version"() returns trigger language plpgsql as $$
      begin
        new.config_version := old.config_version + 1;
        return new;
      end $$`);
    // An update that sets the version itself (the mapping trigger below) is not bumped twice.
    this.addSql(`create trigger "idp_connection_config_version" before update on "idp_connection"
      for each row when (old.config_version = new.config_version)
      execute function "idp_connection_bump_config_version"()`);
    this.addSql(`create function "attribute_mapping_bump_config_version"() returns trigger language plpgsql as $$
      begin
        if tg_op <> 'INSERT' then
          update idp_connection set config_version = config_version + 1 where id = old.connection_id;
        end if;
        if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.connection_id <> old.connection_id) then
          update idp_connection set config_version = config_version + 1 where id = new.connection_id;
        end if;
        return null;
      end $$`);
    this.addSql(`create trigger "attribute_mapping_config_version"
      after insert or update or delete on "attribute_mapping"
      for each row execute function "attribute_mapping_bump_config_version"()`);
  }
}
