import { Migration } from '@mikro-orm/migrations';

/**
 * The audit trail that survives its own database (issue 13):
 * - audit_event.key_id: which audit key linked the row (HMAC); null for the older SHA-256 rows. The app
 *   seals each installation's older chain with an `audit.chain_keyed` event (it needs the key, which the
 *   database never sees), so this migration changes no existing row.
 * - audit_event.txid: the writing transaction, stamped by the database, so a change to responders or
 *   settings can be matched with the audit event written in the same transaction.
 * - audit_outbox: every event gets an outbox row from now on (alerts flagged, posted ahead of the backlog);
 *   events written before that by a writer that did not mirror are marked skipped.
 * - audit_checkpoint: signed checkpoints the relay posts to the audit channel.
 * - audit_db_change: written only by a trigger (SECURITY DEFINER, owned by the migrating role) for every
 *   change to responders and settings; the app's own role can read it but not write or delete it.
 */
export class Migration20261201000300_keyed_audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "audit_event" add column "key_id" varchar(255) null, add column "txid" bigint null;`);
    this.addSql(`create index "audit_event_txid_idx" on "audit_event" ("txid");`);
    this.addSql(
      `create index "audit_event_db_change_ack_idx" on "audit_event" (("params" ->> 'changeId')) where "action" = 'audit.db_change_acknowledged';`,
    );
    this.addSql(`create or replace function "audit_event_stamp_txid"() returns trigger language plpgsql as $$
begin
  new.txid := txid_current();
  return new;
end
$$;`);
    this.addSql(
      `create trigger "audit_event_stamp_txid" before insert on "audit_event" for each row execute function "audit_event_stamp_txid"();`,
    );

    this.addSql(
      `alter table "audit_outbox" add column "alert" boolean not null default false, add column "gap_reported" boolean not null default false;`,
    );
    this.addSql(
      `create index "audit_outbox_alert_idx" on "audit_outbox" ("team_id", "seq") where "alert" and "status" in ('pending', 'sending');`,
    );
    this.addSql(`create unique index "audit_outbox_team_seq_idx" on "audit_outbox" ("team_id", "seq");`);
    this.addSql(`insert into "audit_outbox" ("event_id", "team_id", "seq", "status", "attempts", "last_error", "updated_at")
  select e."id", e."team_id", e."seq", 'skipped', 0, 'written before every event was mirrored', now() from "audit_event" e
  where not exists (select 1 from "audit_outbox" o where o."event_id" = e."id");`);

    this.addSql(
      `create table "audit_checkpoint" ("id" bigserial primary key, "team_id" varchar(255) not null, "seq" bigint not null, "link" varchar(255) not null, "key_id" varchar(255) not null, "signed_at" timestamptz not null, "signature" varchar(255) not null, "status" text check ("status" in ('pending', 'sending', 'posted')) not null default 'pending', "posted_ts" varchar(255) null, "posted_channel" varchar(255) null, "attempts" int not null default 0, "last_error" text null, "updated_at" timestamptz not null);`,
    );
    this.addSql(`create index "audit_checkpoint_pending_idx" on "audit_checkpoint" ("team_id", "status", "id");`);

    this.addSql(
      `create table "audit_db_change" ("id" bigserial primary key, "at" timestamptz not null, "txid" bigint not null, "db_user" varchar(255) not null, "table_name" varchar(255) not null, "operation" varchar(255) not null, "team_id" varchar(255) null, "row_ref" varchar(255) null, "columns" jsonb not null);`,
    );
    // Column names only: the values (a sealed TOTP secret among them) never leave their table.
    this.addSql(`create or replace function "audit_record_db_change"() returns trigger language plpgsql
security definer set search_path from current as $$
declare
  watched text[];
  before jsonb := '{}';
  after jsonb := '{}';
  changed jsonb := '[]';
  k text;
  r jsonb;
begin
  if tg_table_name = 'responder' then
    watched := array['team_id', 'user_id', 'role', 'approver', 'totp_secret', 'totp_status', 'totp_last_step', 'step_up_locked_until'];
  else
    watched := array['team_id', 'name', 'value'];
  end if;
  if tg_level = 'STATEMENT' then
    insert into audit_db_change (at, txid, db_user, table_name, operation, team_id, row_ref, columns)
    values (clock_timestamp(), txid_current(), session_user, tg_table_name, lower(tg_op), null, null, '[]');
    return null;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then before := to_jsonb(old); end if;
  if tg_op in ('UPDATE', 'INSERT') then after := to_jsonb(new); end if;
  foreach k in array watched loop
    if (before -> k) is distinct from (after -> k) then changed := changed || to_jsonb(k); end if;
  end loop;
  if jsonb_array_length(changed) = 0 then return null; end if;
  r := case when tg_op = 'DELETE' then before else after end;
  insert into audit_db_change (at, txid, db_user, table_name, operation, team_id, row_ref, columns)
  values (clock_timestamp(), txid_current(), session_user, tg_table_name, lower(tg_op), r ->> 'team_id',
          case when tg_table_name = 'responder' then r ->> 'user_id' else r ->> 'name' end, changed);
  return null;
end
$$;`);
    for (const table of ['responder', 'setting']) {
      this.addSql(
        `create trigger "${table}_record_db_change" after insert or update or delete on "${table}" for each row execute function "audit_record_db_change"();`,
      );
      this.addSql(
        `create trigger "${table}_record_db_truncate" after truncate on "${table}" for each statement execute function "audit_record_db_change"();`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of ['responder', 'setting']) {
      this.addSql(`drop trigger if exists "${table}_record_db_change" on "${table}";`);
      this.addSql(`drop trigger if exists "${table}_record_db_truncate" on "${table}";`);
    }
    this.addSql(`drop function if exists "audit_record_db_change"();`);
    this.addSql(`drop table if exists "audit_db_change" cascade;`);
    this.addSql(`drop table if exists "audit_checkpoint" cascade;`);
    this.addSql(`drop index if exists "audit_outbox_team_seq_idx";`);
    this.addSql(`drop index if exists "audit_outbox_alert_idx";`);
    this.addSql(`alter table "audit_outbox" drop column "alert", drop column "gap_reported";`);
    this.addSql(`drop trigger if exists "audit_event_stamp_txid" on "audit_event";`);
    this.addSql(`drop function if exists "audit_event_stamp_txid"();`);
    this.addSql(`drop index if exists "audit_event_db_change_ack_idx";`);
    this.addSql(`drop index if exists "audit_event_txid_idx";`);
    this.addSql(`alter table "audit_event" drop column "key_id", drop column "txid";`);
  }
}
