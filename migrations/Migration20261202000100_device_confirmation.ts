import { Migration } from '@mikro-orm/migrations';

/**
 * "Verify another way" for device help: a one-time Confirm / "This wasn't me" sent to the employee's own
 * Slack account, bound to the responder who asked, the Duo user and the device action, valid 10 minutes.
 */
export class Migration20261202000100_device_confirmation extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "device_confirmation" (
      "id" uuid not null,
      "team_id" varchar(255) not null,
      "responder_user_id" varchar(255) not null,
      "duo_user_id" varchar(255) not null,
      "username" varchar(255) not null,
      "action" varchar(255) not null,
      "phone_id" varchar(255) not null,
      "employee_user_id" varchar(255) not null,
      "state" text check ("state" in ('sent', 'confirmed', 'rejected', 'expired')) not null,
      "sent_at" timestamptz not null,
      "expires_at" timestamptz not null,
      "answered_at" timestamptz null,
      "dm_channel" varchar(255) null,
      "dm_ts" varchar(255) null,
      "form_view_id" varchar(255) null,
      "correlation_id" varchar(255) null,
      "version" int not null default 1,
      constraint "device_confirmation_pkey" primary key ("id"));`);
    this.addSql(
      `create index "device_confirmation_target_idx" on "device_confirmation" ("team_id", "duo_user_id", "sent_at");`,
    );
  }
}
