import type { JobQueue } from '../jobs/queue.js';
import type { Deps } from '../usecases/deps.js';
import type { Notifier } from './notifier.js';

/** Durable jobs that end in something a person sees in Slack (verification follower, approval expiry, …). */
export interface JobEnv {
  deps: Deps;
  notifier: Notifier;
  teamId: string;
}

export function registerJobs(_jobs: JobQueue, _env: JobEnv): void {}
