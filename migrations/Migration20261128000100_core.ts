import { Migration } from '@mikro-orm/migrations';

/** Responders, settings, durable jobs, the directory index, verifications and bypass requests. */
export class Migration20261128000100_core extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "responder" ("id" serial primary key, "team_id" varchar(255) not null, "user_id" varchar(255) not null, "role" text check ("role" in ('owner', 'administrator', 'application_manager', 'user_manager', 'help_desk', 'read_only')) not null, "approver" boolean not null default false, "granted_by" varchar(255) null, "totp_secret" text null, "totp_status" text check ("totp_status" in ('none', 'pending', 'active')) not null default 'none', "totp_last_step" bigint null, "step_up_locked_until" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null default 1);`,
    );
    this.addSql(
      `alter table "responder" add constraint "responder_team_id_user_id_unique" unique ("team_id", "user_id");`,
    );

    this.addSql(
      `create table "setting" ("team_id" varchar(255) not null, "name" varchar(255) not null, "value" jsonb not null, "updated_by" varchar(255) null, "updated_at" timestamptz not null, constraint "setting_pkey" primary key ("team_id", "name"));`,
    );

    this.addSql(
      `create table "job" ("id" bigserial primary key, "kind" varchar(255) not null, "payload" jsonb not null, "dedupe_key" varchar(255) null, "status" text check ("status" in ('queued', 'running', 'done', 'failed')) not null default 'queued', "run_at" timestamptz not null, "attempts" int not null default 0, "max_attempts" int not null default 10, "locked_until" timestamptz null, "last_error" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`create index "job_due_idx" on "job" ("status", "run_at");`);
    // One live job per dedupe key (e.g. one follower per verification, one relay per team).
    this.addSql(
      `create unique index "job_live_dedupe_idx" on "job" ("dedupe_key") where "status" in ('queued', 'running');`,
    );

    this.addSql(
      `create table "directory_entry" ("duo_user_id" varchar(255) not null, "username" varchar(255) not null, "aliases" jsonb not null, "email" varchar(255) null, "realname" varchar(255) null, "status" varchar(255) null, "refreshed_at" timestamptz not null, constraint "directory_entry_pkey" primary key ("duo_user_id"));`,
    );
    // Typeahead terms (username, aliases, email, name words), lower-cased, prefix-searchable at 100k users.
    this.addSql(
      `create table "directory_term" ("term" varchar(255) not null, "duo_user_id" varchar(255) not null references "directory_entry" ("duo_user_id") on delete cascade, constraint "directory_term_pkey" primary key ("term", "duo_user_id"));`,
    );
    this.addSql(`create index "directory_term_prefix_idx" on "directory_term" ("term" text_pattern_ops);`);
    this.addSql(`create index "directory_term_user_idx" on "directory_term" ("duo_user_id");`);

    this.addSql(
      `create table "verification" ("id" uuid not null, "team_id" varchar(255) not null, "responder_user_id" varchar(255) not null, "duo_user_id" varchar(255) not null, "username" varchar(255) not null, "phone_id" varchar(255) not null, "phone_label" varchar(255) null, "push_id" varchar(255) null, "status" text check ("status" in ('waiting', 'approved', 'denied', 'fraud', 'timed_out', 'failed')) not null, "sent_at" timestamptz not null, "answered_at" timestamptz null, "valid_until" timestamptz null, "message_channel" varchar(255) null, "message_ts" varchar(255) null, "correlation_id" varchar(255) null, "version" int not null default 1, constraint "verification_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "verification_target_idx" on "verification" ("team_id", "duo_user_id", "sent_at");`);

    this.addSql(
      `create table "bypass_request" ("id" uuid not null, "team_id" varchar(255) not null, "requester_user_id" varchar(255) not null, "requester_role" varchar(255) not null, "duo_user_id" varchar(255) not null, "username" varchar(255) not null, "count" int not null, "reuse_count" int not null, "valid_secs" int not null, "reason" text not null, "ticket" varchar(255) null, "status" text check ("status" in ('pending', 'approved', 'denied', 'expired', 'cancelled', 'issued', 'failed', 'unknown')) not null, "request_channel" varchar(255) null, "approval_channel" varchar(255) null, "approval_ts" varchar(255) null, "decided_by" varchar(255) null, "decided_at" timestamptz null, "decision_note" text null, "failure_reason" text null, "verification_id" varchar(255) null, "expires_at" timestamptz not null, "created_at" timestamptz not null, "version" int not null default 1, constraint "bypass_request_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "bypass_request_requester_idx" on "bypass_request" ("team_id", "requester_user_id", "created_at");`,
    );
    this.addSql(`create index "bypass_request_status_idx" on "bypass_request" ("status", "expires_at");`);

    this.addSql(
      `create table "step_up_failure" ("id" bigserial primary key, "team_id" varchar(255) not null, "user_id" varchar(255) not null, "at" timestamptz not null);`,
    );
    this.addSql(`create index "step_up_failure_user_idx" on "step_up_failure" ("team_id", "user_id", "at");`);
  }

  override async down(): Promise<void> {
    for (const t of [
      'step_up_failure',
      'bypass_request',
      'verification',
      'directory_term',
      'directory_entry',
      'job',
      'setting',
      'responder',
    ])
      this.addSql(`drop table if exists "${t}" cascade;`);
  }
}
