import type { AuditTrail } from '../audit/trail.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Database, EntityManager } from '../db/database.js';
import type { DuoAdmin } from '../duo/types.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { SecretBox } from '../secret-box.js';
import type { ApprovalKinds } from './approval-registry.js';

/** What use cases need from the outside world: ports, not Slack. */
export interface Deps {
  config: Config;
  logger: Logger;
  clock: Clock;
  db: Database;
  duo: DuoAdmin;
  audit: AuditTrail;
  jobs: JobQueue;
  secretBox: SecretBox;
  people: PeopleDirectory;
  tuning: Tuning;
  /** The kinds of guarded change the approval engine knows. */
  approvals: ApprovalKinds;
  /** Prometheus metrics (the runtime's; absent in the CLI and unit tests). */
  metrics?: Metrics;
}

/**
 * What Slack itself says about a workspace member (users.info, with the users:read.email scope), asked by
 * duo-desk: never taken from a request payload.
 */
export interface PeopleDirectory {
  /** The member's email address, or null when Slack shows none (a bot, a guest with it hidden, no scope). */
  emailOf(userId: string): Promise<string | null>;
  /**
   * The workspace member with this email (users.lookupByEmail), or why there is none that counts: a guest
   * (restricted or single-channel), a Slack Connect or other external user, a bot or a deactivated account.
   */
  memberByEmail(email: string, teamId: string): Promise<SlackMember>;
}

export type SlackMember =
  | { found: true; userId: string }
  | { found: false; why: 'no_account' | 'guest' | 'external' | 'deactivated' };

/** Pacing that production leaves at its defaults and tests shorten. */
export interface Tuning {
  /**
   * How often a pending verification push is polled while the caller is most likely answering (the
   * first `verificationFastPollWindowMs` after it was sent), and afterwards (Duo keeps a result for
   * 120 s). At 1 poll/s per push, about 5 pushes pending at once stay inside Duo's ~300/min for reads
   * of a single object; a 429 backs off that push's job only.
   */
  verificationPollMs: number;
  verificationFastPollWindowMs: number;
  verificationSlowPollMs: number;
  /** The first wait after a 429 on a poll; it doubles with each further 429, up to the slow poll x 8. */
  verificationRateLimitBackoffMs: number;
  /** When to stop following a push whose result Duo never gave (the window plus a margin). */
  verificationGiveUpMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  verificationPollMs: 1_000,
  verificationFastPollWindowMs: 30_000,
  verificationSlowPollMs: 2_000,
  verificationRateLimitBackoffMs: 4_000,
  verificationGiveUpMs: 150_000,
};

/** Who is asking, as Slack told us: a reference only. Use cases load the responder themselves. */
export interface Caller {
  teamId: string;
  userId: string;
  correlationId: string;
}

export type { EntityManager };
