import { Migration } from '@mikro-orm/migrations';

/**
 * An answered AuthnRequest is marked with the assertion that answered it instead of deleted, so
 * that a sign-in retrying after a lost connection recognises its own answer (commit-unknown).
 */
export class Migration20261203190000AuthnRequestConsumer extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "authn_request" add column "consumed_by" varchar(256) null`);
  }
}
