import { Migration } from '@mikro-orm/migrations';

/** SP-initiated sign-in (outstanding AuthnRequests), per-connection signing options, NameID format expectation. */
export class Migration20261129100000Saml extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "authn_request" ("id" varchar(128) not null, "connection_id" uuid not null, "expires_at" timestamptz not null, "created_at" timestamptz not null default now(), constraint "authn_request_pkey" primary key ("id"))`,
    );
    this.addSql(`create index "authn_request_connection_id_index" on "authn_request" ("connection_id")`);
    this.addSql(`create index "authn_request_expires_at_index" on "authn_request" ("expires_at")`);
    this.addSql(
      `alter table "authn_request" add constraint "authn_request_connection_id_foreign" foreign key ("connection_id") references "idp_connection" ("id") on update cascade on delete cascade`,
    );
    this.addSql(
      `alter table "idp_connection" add column "sign_authn_requests" boolean not null default false, add column "allow_sha1" boolean not null default false`,
    );
    // name_id_format held the first format the IdP metadata listed, never enforced. It is now the
    // enforced expectation, which no admin has chosen yet: enforcing the old value could refuse
    // IdPs that list one format first and send another.
    this.addSql(`update "idp_connection" set "name_id_format" = null`);
  }
}
