import { webApi } from '@slack/bolt';
import { registerListeners } from '../../commands/index.js';
import { auditEventMessage } from '../../views/audit-event.js';
import { createIntentReconciler, RECONCILE_JOB } from '../audit/reconcile.js';
import { createAuditRelay } from '../audit/relay.js';
import { AuditTrail } from '../audit/trail.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { DuoAdminClient, type DuoAdminClientOptions } from '../duo/client.js';
import type { DuoAdmin } from '../duo/types.js';
import { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import { loadEncryptionKey, SecretBox } from '../secret-box.js';
import { type SlackApp, startSlackApp } from '../slack/app.js';
import { boltLogger } from '../slack/bolt-logger.js';
import { createRelayClient, SlackChannelPoster } from '../slack/channel-poster.js';
import { registerJobs } from '../slack/jobs.js';
import { SlackPeople } from '../slack/people.js';
import { DEFAULT_TUNING, type Deps } from '../usecases/deps.js';
import { scheduleDirectorySync } from '../usecases/directory-index.js';
import { PRUNE_SEEN_JOB, pruneSeenRequests } from '../usecases/replays.js';
import { readinessCheck } from './readiness.js';

/**
 * The composition root: production, local mode and tests all build the app here; only the edges
 * differ (Slack API URL, Duo URL, database, clock).
 */
export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests, a second instance); otherwise one is opened from the config. */
  database?: Database;
  /** Another Duo (tests inject nothing here: they point config.duo at the simulator). */
  duo?: DuoAdmin;
  /** Client pacing: request timeout and 429 back-off (tests shorten them; production keeps Duo's). */
  duoClient?: Pick<DuoAdminClientOptions, 'timeoutMs' | 'maxRateLimitRetries' | 'sleep'>;
  /** Job runner settings; tests drive jobs by hand with `startJobs: false`. */
  startJobs?: boolean;
  jobPollIntervalMs?: number;
  relayPaceMs?: number;
  webApiRetries?: number;
  /** How often pending verification pushes are polled (tests shorten it). */
  verificationPollMs?: number;
}

export interface Runtime {
  deps: Deps;
  slack: SlackApp;
  jobs: JobQueue;
  db: Database;
  stop(): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;
  if (!config.slack.botToken) throw new Error('startRuntime needs Slack credentials (local mode provides them)');
  const ownDb = !opts.database;
  const db =
    opts.database ??
    (await openDatabase({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      logger: logger.child({ component: 'db' }),
    }));
  try {
    const duo =
      opts.duo ??
      new DuoAdminClient({
        ikey: config.duo!.ikey,
        skey: config.duo!.skey,
        host: config.duo!.host,
        logger: logger.child({ component: 'duo' }),
        ...opts.duoClient,
      });
    const jobs = new JobQueue(db, clock, logger.child({ component: 'jobs' }), {
      pollIntervalMs: opts.jobPollIntervalMs ?? 500,
    });
    const audit = new AuditTrail(clock, jobs, { mirrorToChannel: Boolean(config.auditChannel) });
    const key = loadEncryptionKey({
      configured: config.encryptionKey,
      local: config.slackMode === 'local',
      dataDir: config.dataDir,
      logger,
    });
    const tuning = {
      ...DEFAULT_TUNING,
      ...(opts.verificationPollMs ? { verificationPollMs: opts.verificationPollMs } : {}),
    };
    // users.info for the step-up binding (a responder's own Duo account is found by their Slack email).
    const people = new SlackPeople(
      new webApi.WebClient(config.slack.botToken, {
        ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
        retryConfig: { retries: opts.webApiRetries ?? 2 },
        logger: boltLogger(logger.child({ component: 'slack' })),
      }),
    );
    const deps: Deps = {
      config,
      logger,
      clock,
      db,
      duo,
      audit,
      jobs,
      secretBox: new SecretBox(key),
      people,
      tuning,
    };

    const readiness = readinessCheck({ db, duo, clock, logger: logger.child({ component: 'readiness' }) });

    const slack = await startSlackApp({
      mode: config.slackMode === 'socket' ? 'socket' : 'http',
      signingSecret: config.slack.signingSecret,
      botToken: config.slack.botToken,
      appToken: config.slack.appToken,
      apiUrl: config.slack.apiUrl,
      port: config.port,
      host: config.host,
      logger,
      deps,
      readiness,
      listeners: (app, notifier) => registerListeners(app, { deps, notifier }),
      ...(opts.webApiRetries !== undefined ? { webApiRetries: opts.webApiRetries } : {}),
    });

    const poster = new SlackChannelPoster(
      createRelayClient(webApi.WebClient, config.slack.botToken, config.slack.apiUrl),
    );
    jobs.register(
      'audit.relay',
      createAuditRelay({
        channel: config.auditChannel,
        poster,
        render: auditEventMessage,
        clock,
        ...(opts.relayPaceMs !== undefined ? { paceMs: opts.relayPaceMs } : {}),
      }),
    );
    jobs.register(RECONCILE_JOB, createIntentReconciler(audit, clock));
    jobs.register(PRUNE_SEEN_JOB, (_payload, ctx) => pruneSeenRequests(deps, ctx.em));
    registerJobs(jobs, { deps, notifier: slack.notifier, teamId: slack.teamId });
    const em = db.em.fork();
    await jobs.enqueue(em, { kind: RECONCILE_JOB, dedupeKey: RECONCILE_JOB });
    await jobs.enqueue(em, { kind: PRUNE_SEEN_JOB, dedupeKey: PRUNE_SEEN_JOB });
    // The typeahead's directory index: a paced full pass now and hourly (lookups refresh single users).
    await scheduleDirectorySync(jobs, em, { duo, clock });
    if (config.auditChannel)
      await jobs.enqueue(em, {
        kind: 'audit.relay',
        payload: { teamId: slack.teamId },
        dedupeKey: `audit.relay:${slack.teamId}`,
      });
    if (opts.startJobs !== false) jobs.start();

    return {
      deps,
      slack,
      jobs,
      db,
      async stop() {
        await slack.stop().catch((e) => logger.warn('slack stop failed', { err: e }));
        await jobs.stop();
        if (ownDb) await db.close();
      },
    };
  } catch (e) {
    if (ownDb) await db.close();
    throw e;
  }
}
