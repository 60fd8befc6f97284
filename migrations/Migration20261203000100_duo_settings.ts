import { Migration } from '@mikro-orm/migrations';

/**
 * Duo's own account settings as last read (GET /admin/v1/settings, at start and hourly): the ceiling
 * over duo-desk's settings, shared by every instance and kept when Duo cannot be read. One row per Duo
 * tenant ('duo'). No secrets: Duo's settings object holds policy values only.
 */
export class Migration20261203000100_duo_settings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "duo_tenant_settings" (
      "id" varchar(32) not null,
      "settings" jsonb not null,
      "read_at" timestamptz not null,
      "last_error" varchar(255) null,
      "last_error_at" timestamptz null,
      constraint "duo_tenant_settings_pkey" primary key ("id"));`);
  }
}
