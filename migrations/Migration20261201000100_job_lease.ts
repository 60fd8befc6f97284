import { Migration } from '@mikro-orm/migrations';

/**
 * Job leases carry their holder: each claim writes a token (instance id and claim number) that the
 * heartbeat, the lease extension and the final update must match, so an instance whose lease ran out
 * (stalled, partitioned) cannot finish, reschedule or extend a job another instance has taken over.
 */
export class Migration20261201000100_job_lease extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "job" add column "lease_owner" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "job" drop column if exists "lease_owner";`);
  }
}
