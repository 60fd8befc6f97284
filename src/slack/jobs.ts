import type { JobQueue } from '../jobs/queue.js';
import { REMIND_JOB } from '../usecases/approval-reminders.js';
import type { Deps } from '../usecases/deps.js';
import { HOME_REFRESH_JOB } from '../usecases/home.js';
import { ENROLLMENT_CLEANUP_JOB } from '../usecases/step-up.js';
import { VERIFY_FOLLOW_JOB } from '../usecases/verify.js';
import { registerApprovalJobs } from './approval-notices.js';
import { createApprovalReminder } from './approval-reminders.js';
import { createEnrollmentCleanup } from './enrollment-cleanup.js';
import { createHomeRefresher } from './home.js';
import type { Notifier } from './notifier.js';
import { createVerificationFollower } from './verification-follower.js';

/** Durable jobs that end in something a person sees in Slack (verification follower, approvals, …). */
export interface JobEnv {
  deps: Deps;
  notifier: Notifier;
  teamId: string;
}

/** Someone is waiting on each of these: they run in the interactive lane, which slow jobs cannot fill. */
export function registerJobs(jobs: JobQueue, env: JobEnv): void {
  jobs.register(VERIFY_FOLLOW_JOB, createVerificationFollower(env), { lane: 'interactive' });
  registerApprovalJobs(jobs, env.deps, env.notifier);
  jobs.register(ENROLLMENT_CLEANUP_JOB, createEnrollmentCleanup(env), { lane: 'interactive' });
  jobs.register(REMIND_JOB, createApprovalReminder(env.deps, env.notifier), { lane: 'interactive' });
  jobs.register(HOME_REFRESH_JOB, createHomeRefresher(env.deps, env.notifier));
}
