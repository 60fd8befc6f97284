import { Migration } from '@mikro-orm/migrations';

/**
 * Refusals of people who are not responders (or are from another workspace), counted per user and
 * minute: a flood of commands from outside writes one audit row when it starts and one summary per
 * minute, not one row per command.
 */
export class Migration20261201000600_refusals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "refusal_window" (
      "team_id" varchar(255) not null,
      "user_id" varchar(255) not null,
      "minute" timestamptz not null,
      "why" varchar(255) not null,
      "count" int not null,
      "summarized" boolean not null default false,
      constraint "refusal_window_pkey" primary key ("team_id", "user_id", "minute"));`);
    this.addSql(`create index "refusal_window_open_idx" on "refusal_window" ("summarized", "minute");`);
  }
}
