import { Migration } from '@mikro-orm/migrations';

/** The first schema: connections, users and contacts, licenses, mappings, sessions, audit. */
export class Migration20261129000000Init extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "consumed_assertion" ("issuer" varchar(1024) not null, "assertion_id" varchar(256) not null, "expires_at" timestamptz not null, "consumed_at" timestamptz not null default now(), constraint "consumed_assertion_pkey" primary key ("issuer", "assertion_id"))`,
    );
    this.addSql(`create index "consumed_assertion_expires_at_index" on "consumed_assertion" ("expires_at")`);
    this.addSql(
      `create table "idp_connection" ("id" uuid not null default gen_random_uuid(), "name" varchar(200) not null, "entity_id" varchar(1024) not null, "sso_redirect_url" varchar(2048) null, "sso_post_url" varchar(2048) null, "certificates" jsonb not null, "enabled" boolean not null default true, "jit_enabled" boolean not null default true, "refresh_on_login" boolean not null default false, "idp_initiated_allowed" boolean not null default true, "want_response_signed" boolean not null default false, "clock_skew_seconds" int not null default 60, "name_id_format" varchar(512) null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "idp_connection_pkey" primary key ("id"))`,
    );
    this.addSql(`alter table "idp_connection" add constraint "idp_connection_name_unique" unique ("name")`);
    this.addSql(
      `alter table "idp_connection" add constraint "idp_connection_entity_id_unique" unique ("entity_id")`,
    );
    this.addSql(
      `create table "attribute_mapping" ("id" uuid not null default gen_random_uuid(), "connection_id" uuid not null, "position" int not null, "attribute_name" varchar(1024) not null, "column" varchar(64) not null, "kind" text check ("kind" in ('COPY', 'TRANSFORM')) not null default 'COPY', "required" boolean not null default false, "created_at" timestamptz not null default now(), constraint "attribute_mapping_pkey" primary key ("id"))`,
    );
    this.addSql(
      `create index "attribute_mapping_connection_id_index" on "attribute_mapping" ("connection_id")`,
    );
    this.addSql(
      `alter table "attribute_mapping" add constraint "attribute_mapping_connection_id_column_unique" unique ("connection_id", "column")`,
    );
    this.addSql(
      `create table "license" ("id" uuid not null default gen_random_uuid(), "name" varchar(200) not null, "seats" int null, "used" int not null default 0, "active" boolean not null default true, "created_at" timestamptz not null default now(), constraint "license_pkey" primary key ("id"), constraint license_seats_check check (seats is null or (seats >= 0 and used <= seats)))`,
    );
    this.addSql(`alter table "license" add constraint "license_name_unique" unique ("name")`);
    this.addSql(
      `create table "provisioning_event" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz not null default now(), "connection_id" uuid null, "user_id" uuid null, "name_id" varchar(512) null, "issuer" varchar(1024) null, "assertion_id" varchar(256) null, "outcome" text check ("outcome" in ('CREATED', 'SIGNED_IN', 'UPDATED', 'REJECTED')) not null, "error_code" varchar(64) null, "error_message" text null, "changes" jsonb not null default '[]', "licenses_granted" jsonb not null default '[]', "via" varchar(16) not null, constraint "provisioning_event_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "provisioning_event_created_at_index" on "provisioning_event" ("created_at")`);
    this.addSql(
      `create index "provisioning_event_connection_id_index" on "provisioning_event" ("connection_id")`,
    );
    this.addSql(`create index "provisioning_event_user_id_index" on "provisioning_event" ("user_id")`);
    this.addSql(
      `create table "app_user" ("id" uuid not null default gen_random_uuid(), "username" varchar(512) not null, "connection_id" uuid null, "status" text check ("status" in ('ACTIVE', 'BLOCKED')) not null default 'ACTIVE', "created_at" timestamptz not null default now(), "last_login_at" timestamptz null, constraint "app_user_pkey" primary key ("id"))`,
    );
    this.addSql(`alter table "app_user" add constraint "app_user_username_unique" unique ("username")`);
    this.addSql(`create index "app_user_connection_id_index" on "app_user" ("connection_id")`);
    this.addSql(
      `create table "user_session" ("id" uuid not null default gen_random_uuid(), "token_hash" varchar(64) not null, "user_id" uuid not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "user_session_pkey" primary key ("id"))`,
    );
    this.addSql(
      `alter table "user_session" add constraint "user_session_token_hash_unique" unique ("token_hash")`,
    );
    this.addSql(`create index "user_session_user_id_index" on "user_session" ("user_id")`);
    this.addSql(
      `create table "license_grant" ("id" uuid not null default gen_random_uuid(), "license_id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null default now(), constraint "license_grant_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "license_grant_license_id_index" on "license_grant" ("license_id")`);
    this.addSql(`create index "license_grant_user_id_index" on "license_grant" ("user_id")`);
    this.addSql(
      `alter table "license_grant" add constraint "license_grant_license_id_user_id_unique" unique ("license_id", "user_id")`,
    );
    this.addSql(
      `create table "contact" ("id" uuid not null default gen_random_uuid(), "user_id" uuid not null, "full_name" varchar(200) null, "given_name" varchar(100) null, "surname" varchar(100) null, "email" varchar(320) null, "phone" varchar(32) null, "mobile_phone" varchar(32) null, "job_title" varchar(128) null, "department" varchar(128) null, "company" varchar(128) null, "office_location" varchar(128) null, "city" varchar(100) null, "country" varchar(2) null, "language" varchar(35) null, "external_id" varchar(128) null, "employee_id" varchar(64) null, "groups" text[] null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "contact_pkey" primary key ("id"))`,
    );
    this.addSql(`alter table "contact" add constraint "contact_user_id_unique" unique ("user_id")`);
    this.addSql(
      `alter table "attribute_mapping" add constraint "attribute_mapping_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "app_user" add constraint "app_user_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete set null`,
    );
    this.addSql(
      `alter table "user_session" add constraint "user_session_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "license_grant" add constraint "license_grant_license_id_foreign" foreign key ("license_id") references "license" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "license_grant" add constraint "license_grant_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "contact" add constraint "contact_user_id_foreign" foreign key ("user_id") references "app_user" ("id") on update cascade on delete cascade`,
    );
  }
}
