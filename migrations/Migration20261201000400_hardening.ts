import { Migration } from '@mikro-orm/migrations';

/**
 * Hardening (issue 12):
 * - verification.purpose: a push that confirms a step-up enrollment on the responder's own Duo account
 *   ('enrollment') never counts as verifying a caller ('caller').
 * - verification_push_attempt: every verification push attempt, counted (under a lock) for the per-responder
 *   and per-user limits before the push is sent.
 * - totp_enrollment: one row per step-up enrollment attempt: the Duo account it is bound to, the push that
 *   confirms it, where the QR file and the modal with the key are (to delete them), and how it ended.
 *   responder.totp_pending_enrollment points at the attempt the pending secret belongs to;
 *   responder.totp_duo_user_id is the Duo account the active enrollment was bound to.
 * - seen_request: request signatures, trigger ids and event ids seen in the last minutes, for every instance.
 *
 * Existing enrollments are cleared: their keys were posted in the responders' DMs and are still readable
 * there, so they prove nothing about who is at the keyboard. Responders enroll again with `/duo mfa`.
 */
export class Migration20261201000400_hardening extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "verification" add column "purpose" text check ("purpose" in ('caller', 'enrollment')) not null default 'caller';`,
    );
    this.addSql(
      `create table "verification_push_attempt" ("id" bigserial primary key, "team_id" varchar(255) not null, "responder_user_id" varchar(255) not null, "duo_user_id" varchar(255) not null, "at" timestamptz not null);`,
    );
    this.addSql(
      `create index "verification_push_attempt_user_idx" on "verification_push_attempt" ("team_id", "duo_user_id", "at");`,
    );
    this.addSql(
      `create index "verification_push_attempt_responder_idx" on "verification_push_attempt" ("team_id", "responder_user_id", "at");`,
    );

    this.addSql(
      `create table "totp_enrollment" ("id" uuid not null, "team_id" varchar(255) not null, "user_id" varchar(255) not null, "duo_user_id" varchar(255) not null, "username" varchar(255) not null, "verification_id" uuid null, "qr_file_id" varchar(255) null, "view_id" varchar(255) null, "status" text check ("status" in ('pending', 'confirmed', 'refused', 'expired', 'replaced')) not null, "reenrollment" boolean not null default false, "created_at" timestamptz not null, "expires_at" timestamptz not null, "finished_at" timestamptz null, "qr_deleted_at" timestamptz null, constraint "totp_enrollment_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "totp_enrollment_user_idx" on "totp_enrollment" ("team_id", "user_id", "created_at");`);
    this.addSql(
      `alter table "responder" add column "totp_pending_enrollment" uuid null, add column "totp_duo_user_id" varchar(255) null;`,
    );
    this.addSql(
      `update "responder" set "totp_secret" = null, "totp_status" = 'none', "totp_last_step" = null where "totp_status" <> 'none';`,
    );

    this.addSql(
      `create table "seen_request" ("key" varchar(255) not null, "seen_at" timestamptz not null, "expires_at" timestamptz not null, constraint "seen_request_pkey" primary key ("key"));`,
    );
    this.addSql(`create index "seen_request_expiry_idx" on "seen_request" ("expires_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "seen_request";`);
    this.addSql(`alter table "responder" drop column "totp_pending_enrollment", drop column "totp_duo_user_id";`);
    this.addSql(`drop table if exists "totp_enrollment";`);
    this.addSql(`drop table if exists "verification_push_attempt";`);
    this.addSql(`alter table "verification" drop column "purpose";`);
  }
}
