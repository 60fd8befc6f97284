import { Migration } from '@mikro-orm/migrations';

/**
 * The users overview (`/duo users`) reads its counts and filtered lists from the directory index: the facts the
 * seed's counts need are kept beside each entry (enrolled, last login, created, managed by a directory sync).
 * Entries indexed before this migration get them on the next full pass (null until then: counted as unknown).
 * One index for the paged lists: keyset order by lower-cased username (byte order) and user id.
 */
export class Migration20261204000100_users_overview extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "directory_entry"
      add column "is_enrolled" boolean null,
      add column "last_login" timestamptz null,
      add column "created" timestamptz null,
      add column "directory_synced" boolean null;`);
    this.addSql(
      `create index "directory_entry_username_order_idx" on "directory_entry" ((lower("username") collate "C"), "duo_user_id");`,
    );
  }
}
