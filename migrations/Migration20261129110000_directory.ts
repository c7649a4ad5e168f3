import { Migration } from '@mikro-orm/migrations';

/** Indexes for keyset pagination and contact search (trigram). */
export class Migration20261129110000Directory extends Migration {
  override async up(): Promise<void> {
    this.addSql('create extension if not exists pg_trgm');
    this.addSql(`create index "app_user_created_at_id_index" on "app_user" ("created_at", "id")`);
    this.addSql(
      `create index "app_user_last_login_id_index" on "app_user" (coalesce(last_login_at, 'epoch'::timestamptz), id)`,
    );
    this.addSql(`create index "contact_name_id_index" on "contact" (lower(coalesce(full_name, '')), id)`);
    this.addSql(`create index "contact_created_at_id_index" on "contact" ("created_at", "id")`);
    this.addSql(
      `create index "contact_search_trgm_index" on "contact" using gin ((coalesce(full_name, '') || ' ' || coalesce(email, '')) gin_trgm_ops)`,
    );
    this.addSql(`create index "contact_department_index" on "contact" ("department")`);
    this.addSql(`create index "contact_company_index" on "contact" ("company")`);
    this.addSql(
      `create index "provisioning_event_created_at_id_index" on "provisioning_event" ("created_at", "id")`,
    );
  }
}
