import { Migration } from '@mikro-orm/migrations';

/** Transform plugins and per-mapping options: default value, multi-value and write policies. */
export class Migration20261129090000MappingEngine extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "attribute_mapping"
      add column "plugin" varchar(64) null,
      add column "params" jsonb null,
      add column "default_value" jsonb null,
      add column "multi_value" text check ("multi_value" in ('FIRST', 'JOIN', 'REFUSE')) not null default 'REFUSE',
      add column "separator" varchar(16) not null default ', ',
      add column "write_policy" text check ("write_policy" in ('ON_CREATE', 'ALWAYS', 'IF_EMPTY')) not null default 'ALWAYS',
      add column "updated_at" timestamptz not null default now()`);
    this.addSql(`alter table "attribute_mapping" alter column "attribute_name" drop not null`);
  }
}
