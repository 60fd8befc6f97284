import { Migration } from '@mikro-orm/migrations';

/**
 * One table for every guarded change waiting for, or past, its second person (src/domain/approvals.ts).
 * Existing bypass-code requests move into it with their ids (the audit trail's request_ref keeps
 * pointing at them) and their states renamed: pending → requested, issued → done.
 */
const STATES = [
  'requested',
  'scheduled',
  'approved',
  'denied',
  'expired',
  'cancelled',
  'executing',
  'done',
  'active',
  'ending',
  'ended',
  'failed',
  'unknown',
];
const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');

export class Migration20261201000500_approvals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "approval_request" (
      "id" uuid not null,
      "team_id" varchar(255) not null,
      "kind" varchar(255) not null,
      "params" jsonb not null,
      "state" text check ("state" in (${list(STATES)})) not null,
      "policy" text check ("policy" in ('none', 'second_person', 'second_owner', 'delay')) not null,
      "requester_user_id" varchar(255) not null,
      "requester_role" varchar(255) not null,
      "target_duo_user_id" varchar(255) null,
      "target_username" varchar(255) null,
      "reason" text not null,
      "ticket" varchar(255) null,
      "request_channel" varchar(255) null,
      "card_channel" varchar(255) null,
      "card_ts" varchar(255) null,
      "decided_by" varchar(255) null,
      "decided_at" timestamptz null,
      "decision_note" text null,
      "expires_at" timestamptz not null,
      "execute_after" timestamptz null,
      "active_until" timestamptz null,
      "result" jsonb not null,
      "failure_reason" text null,
      "verification_id" varchar(255) null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      "version" int not null default 1,
      constraint "approval_request_pkey" primary key ("id"));`);
    this.addSql(
      `create index "approval_request_requester_idx" on "approval_request" ("team_id", "requester_user_id", "kind", "created_at");`,
    );
    this.addSql(`create index "approval_request_state_idx" on "approval_request" ("team_id", "state");`);
    this.addSql(
      `create index "approval_request_target_idx" on "approval_request" ("team_id", "target_duo_user_id", "kind", "state");`,
    );
    this.addSql(`insert into "approval_request" (
        "id", "team_id", "kind", "params", "state", "policy", "requester_user_id", "requester_role",
        "target_duo_user_id", "target_username", "reason", "ticket", "request_channel", "card_channel", "card_ts",
        "decided_by", "decided_at", "decision_note", "expires_at", "result", "failure_reason", "verification_id",
        "created_at", "updated_at", "version")
      select "id", "team_id", 'bypass_codes',
        jsonb_build_object('count', "count", 'reuseCount', "reuse_count", 'validSecs', "valid_secs"),
        case "status" when 'pending' then 'requested' when 'issued' then 'done' else "status" end,
        case when "decided_by" = "requester_user_id" and "status" <> 'cancelled' then 'none' else 'second_person' end,
        "requester_user_id", "requester_role", "duo_user_id", "username", "reason", "ticket", "request_channel",
        "approval_channel", "approval_ts", "decided_by", "decided_at", "decision_note", "expires_at", '{}',
        "failure_reason", "verification_id", "created_at", "created_at", "version"
      from "bypass_request";`);
    this.addSql(`drop table "bypass_request";`);
    // Expiry jobs of migrated requests keep working under the engine's job kind.
    this.addSql(
      `update "job" set "kind" = 'approval.expire', "dedupe_key" = replace("dedupe_key", 'bypass.expire:', 'approval.expire:') where "kind" = 'bypass.expire';`,
    );
  }
}
