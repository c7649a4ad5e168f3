import { Migration } from '@mikro-orm/migrations';

/** Named admin API tokens (hashed, revocable), audited by name beside the bootstrap ADMIN_TOKEN. */
export class Migration20261203150000AdminTokens extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "admin_token" ("id" uuid not null default gen_random_uuid(), "name" varchar(80) not null, "token_hash" varchar(64) not null, "created_by" varchar(80) not null, "created_at" timestamptz not null default now(), "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "admin_token_pkey" primary key ("id"))`,
    );
    this.addSql(`alter table "admin_token" add constraint "admin_token_name_unique" unique ("name")`);
    this.addSql(
      `alter table "admin_token" add constraint "admin_token_token_hash_unique" unique ("token_hash")`,
    );
  }
}
