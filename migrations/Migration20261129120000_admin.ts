import { Migration } from '@mikro-orm/migrations';

/** Admin audit log; the admin role for users, granted by IdP groups. */
export class Migration20261129120000Admin extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "admin_audit_event" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "actor" varchar(80) not null, "action" varchar(64) not null, "target_type" varchar(64) not null, "target_id" varchar(64) null, "before" jsonb null, "after" jsonb null, constraint "admin_audit_event_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "admin_audit_event_action_index" on "admin_audit_event" ("action")`);
    this.addSql(`create index "admin_audit_event_target_id_index" on "admin_audit_event" ("target_id")`);
    this.addSql(
      `create index "admin_audit_event_created_at_id_index" on "admin_audit_event" ("created_at", "id")`,
    );
    this.addSql(`alter table "app_user" add column "is_admin" boolean not null default false`);
    this.addSql(`alter table "idp_connection"
      add column "groups_attribute" varchar(1024) not null default 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups',
      add column "admin_groups" jsonb not null default '[]'`);
  }
}
