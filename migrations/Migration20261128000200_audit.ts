import { Migration } from '@mikro-orm/migrations';

/**
 * The audit trail: append-only (the database refuses UPDATE, DELETE and TRUNCATE), hash-chained per
 * Slack installation (audit_chain_head holds the tip), with an outbox row per event for the channel relay.
 */
export class Migration20261128000200_audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_event" ("id" bigserial primary key, "team_id" varchar(255) not null, "seq" bigint not null, "occurred_at" timestamptz not null, "actor_user_id" varchar(255) null, "actor_role" varchar(255) null, "action" varchar(255) not null, "phase" text check ("phase" in ('event', 'intent', 'outcome')) not null, "target_duo_user_id" varchar(255) null, "target_username" varchar(255) null, "outcome" text check ("outcome" in ('success', 'denied', 'failed', 'pending', 'unknown')) not null, "reason" text null, "ticket" varchar(255) null, "correlation_id" varchar(255) null, "intent_id" bigint null, "request_ref" varchar(255) null, "duo_ref" varchar(255) null, "params" jsonb not null, "prev_hash" varchar(255) not null, "hash" varchar(255) not null);`,
    );
    this.addSql(`alter table "audit_event" add constraint "audit_event_team_id_seq_unique" unique ("team_id", "seq");`);
    this.addSql(`create index "audit_event_target_idx" on "audit_event" ("team_id", "target_username");`);
    this.addSql(`create index "audit_event_intent_idx" on "audit_event" ("intent_id");`);
    this.addSql(`create index "audit_event_time_idx" on "audit_event" ("team_id", "occurred_at");`);

    this.addSql(
      `create table "audit_chain_head" ("team_id" varchar(255) not null, "seq" bigint not null, "hash" varchar(255) not null, constraint "audit_chain_head_pkey" primary key ("team_id"));`,
    );

    this.addSql(
      `create table "audit_outbox" ("event_id" bigint not null, "team_id" varchar(255) not null, "seq" bigint not null, "status" text check ("status" in ('pending', 'sending', 'posted', 'skipped')) not null default 'pending', "posted_ts" varchar(255) null, "posted_channel" varchar(255) null, "attempts" int not null default 0, "last_error" text null, "updated_at" timestamptz not null, constraint "audit_outbox_pkey" primary key ("event_id"));`,
    );
    this.addSql(`create index "audit_outbox_pending_idx" on "audit_outbox" ("team_id", "status", "seq");`);

    this.addSql(`create or replace function "audit_event_append_only"() returns trigger language plpgsql as $$
begin
  raise exception 'audit_event is append-only: % is not allowed', tg_op using errcode = '42501';
end
$$;`);
    this.addSql(
      `create trigger "audit_event_no_update_delete" before update or delete on "audit_event" for each row execute function "audit_event_append_only"();`,
    );
    this.addSql(
      `create trigger "audit_event_no_truncate" before truncate on "audit_event" for each statement execute function "audit_event_append_only"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_outbox" cascade;`);
    this.addSql(`drop table if exists "audit_chain_head" cascade;`);
    this.addSql(`drop table if exists "audit_event" cascade;`);
    this.addSql(`drop function if exists "audit_event_append_only"();`);
  }
}
