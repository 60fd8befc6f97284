import type { JobQueue } from '../jobs/queue.js';
import type { Deps } from '../usecases/deps.js';
import { VERIFY_FOLLOW_JOB } from '../usecases/verify.js';
import { registerApprovalJobs } from './approval-notices.js';
import type { Notifier } from './notifier.js';
import { createVerificationFollower } from './verification-follower.js';

/** Durable jobs that end in something a person sees in Slack (verification follower, approvals, …). */
export interface JobEnv {
  deps: Deps;
  notifier: Notifier;
  teamId: string;
}

export function registerJobs(jobs: JobQueue, env: JobEnv): void {
  jobs.register(VERIFY_FOLLOW_JOB, createVerificationFollower(env));
  registerApprovalJobs(jobs, env.deps, env.notifier);
}
