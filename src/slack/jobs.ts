import type { JobQueue } from '../jobs/queue.js';
import { EXPIRE_JOB } from '../usecases/bypass-store.js';
import type { Deps } from '../usecases/deps.js';
import { ENROLLMENT_CLEANUP_JOB } from '../usecases/step-up.js';
import { VERIFY_FOLLOW_JOB } from '../usecases/verify.js';
import { createBypassExpiry } from './bypass-jobs.js';
import { createEnrollmentCleanup } from './enrollment-cleanup.js';
import type { Notifier } from './notifier.js';
import { createVerificationFollower } from './verification-follower.js';

/** Durable jobs that end in something a person sees in Slack (verification follower, approval expiry, …). */
export interface JobEnv {
  deps: Deps;
  notifier: Notifier;
  teamId: string;
}

export function registerJobs(jobs: JobQueue, env: JobEnv): void {
  jobs.register(VERIFY_FOLLOW_JOB, createVerificationFollower(env));
  jobs.register(EXPIRE_JOB, createBypassExpiry(env));
  jobs.register(ENROLLMENT_CLEANUP_JOB, createEnrollmentCleanup(env));
}
