import { type CustomRoute, webApi } from '@slack/bolt';
import { registerListeners } from '../../commands/index.js';
import '../../views/approval-kinds.js';
import { missingKindTexts } from '../../views/approvals.js';
import { auditCheckpointMessage, auditEventMessage } from '../../views/audit-event.js';
import { loadAuditKeyring } from '../audit/keys.js';
import { createIntentReconciler, RECONCILE_JOB } from '../audit/reconcile.js';
import { createAuditRelay } from '../audit/relay.js';
import { AuditTrail, relayJobKey } from '../audit/trail.js';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { checkAuditPrivileges } from '../db/privileges.js';
import { DuoAdminClient, type DuoAdminClientOptions } from '../duo/client.js';
import type { DuoAdmin } from '../duo/types.js';
import { JobQueue, type JobQueueOptions } from '../jobs/queue.js';
import { loadKey } from '../key-material.js';
import type { Logger } from '../log.js';
import { Metrics } from '../metrics.js';
import { SecretBox } from '../secret-box.js';
import { type SlackApp, startSlackApp } from '../slack/app.js';
import { boltLogger } from '../slack/bolt-logger.js';
import { createRelayClient, SlackChannelPoster } from '../slack/channel-poster.js';
import { registerJobs } from '../slack/jobs.js';
import { SlackPeople } from '../slack/people.js';
import { BUILT_IN_KINDS } from '../usecases/approval-kinds.js';
import type { AnyKind } from '../usecases/approval-model.js';
import { ApprovalKinds } from '../usecases/approval-registry.js';
import { DEFAULT_TUNING, type Deps, type Tuning } from '../usecases/deps.js';
import { scheduleDirectorySync } from '../usecases/directory-index.js';
import {
  createDuoSettingsJob,
  DUO_SETTINGS_INTERVAL_MS,
  DUO_SETTINGS_JOB,
  refreshDuoSettings,
} from '../usecases/duo-settings.js';
import { touchHomes } from '../usecases/home.js';
import { createRefusalSummarizer, SUMMARIZE_REFUSALS_JOB } from '../usecases/refusals.js';
import { PRUNE_SEEN_JOB, pruneSeenRequests } from '../usecases/replays.js';
import { bindUnboundSecrets } from '../usecases/step-up.js';
import { metricsRoute, startMetricsServer } from './metrics-http.js';
import { readinessCheck } from './readiness.js';

/**
 * The composition root: production, local mode and tests all build the app here; only the edges
 * differ (Slack API URL, Duo URL, database, clock).
 */
export interface RuntimeOptions {
  /** Approval kinds beyond the built-in ones (a test's own kind). */
  extraKinds?: readonly AnyKind[];
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
  /** Lanes' slots, lease and heartbeat, instance id (the scale bench names its instances). */
  jobQueue?: Omit<JobQueueOptions, 'pollIntervalMs'>;
  relayPaceMs?: number;
  relayIdleMs?: number;
  webApiRetries?: number;
  /** How often pending verification pushes are polled, throughout (tests shorten it). */
  verificationPollMs?: number;
  /** More routes on the app's HTTP server (local mode's workspace page; never in production). */
  routes?: CustomRoute[];
}

export interface Runtime {
  deps: Deps;
  metrics: Metrics;
  /** The port /metrics has to itself (METRICS_PORT), when configured. */
  metricsPort: number | undefined;
  slack: SlackApp;
  jobs: JobQueue;
  db: Database;
  stop(budgetMs?: number): Promise<void>;
}

export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;
  if (!config.slack.botToken) throw new Error('startRuntime needs Slack credentials (local mode provides them)');
  // Keys first: a missing one stops start-up before anything is opened.
  const local = config.slackMode === 'local';
  const keyring = loadAuditKeyring({
    configured: config.auditKey,
    retired: config.auditKeysRetired,
    local,
    dataDir: config.dataDir,
    logger,
  });
  const key = loadKey({
    variable: 'DUO_DESK_ENCRYPTION_KEY',
    fileName: 'encryption.key',
    configured: config.encryptionKey,
    local,
    dataDir: config.dataDir,
    logger,
  });
  const ownDb = !opts.database;
  const metrics = new Metrics();
  const db =
    opts.database ??
    (await openDatabase({
      url: config.databaseUrl,
      migrationUrl: config.migrationDatabaseUrl,
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
        observe: (a) => metrics.duoAttempt(a),
        ...opts.duoClient,
      });
    metrics.bindDatabase((sql) => db.em.fork().getConnection().execute(sql));
    const jobs = new JobQueue(db, clock, logger.child({ component: 'jobs' }), {
      ...opts.jobQueue,
      pollIntervalMs: opts.jobPollIntervalMs ?? 500,
      observe: (r) => metrics.jobRun(r),
    });
    const audit = new AuditTrail(clock, keyring, {
      observe: async (e, em) => {
        metrics.auditEvent(e);
        await touchHomes(jobs, clock, em, e);
      },
    });
    const pollMs = opts.verificationPollMs;
    const tuning: Tuning = {
      ...DEFAULT_TUNING,
      ...(pollMs
        ? { verificationPollMs: pollMs, verificationSlowPollMs: pollMs, verificationRateLimitBackoffMs: pollMs * 2 }
        : {}),
    };
    const kinds = [...BUILT_IN_KINDS, ...(opts.extraKinds ?? [])];
    const untold = missingKindTexts(kinds);
    if (untold.length)
      throw new Error(`approval kinds without card text (views/approval-kinds.ts): ${untold.join(', ')}`);
    const approvals = new ApprovalKinds(kinds);
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
      approvals,
      metrics,
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
      routes: [
        ...(opts.routes ?? []),
        // /metrics beside /slack/events only behind its token; without one, only on METRICS_PORT.
        ...(config.metricsToken && config.metricsPort === undefined
          ? [metricsRoute(metrics, config.metricsToken)]
          : []),
      ],
    });
    const metricsServer =
      config.metricsPort !== undefined
        ? await startMetricsServer(metrics, { port: config.metricsPort, host: config.host, token: config.metricsToken })
        : undefined;

    const poster = new SlackChannelPoster(
      createRelayClient(webApi.WebClient, config.slack.botToken, config.slack.apiUrl),
    );
    jobs.register(
      'audit.relay',
      createAuditRelay({
        channel: config.auditChannel,
        poster,
        render: auditEventMessage,
        renderCheckpoint: auditCheckpointMessage,
        audit,
        clock,
        ...(opts.relayPaceMs !== undefined ? { paceMs: opts.relayPaceMs } : {}),
        ...(opts.relayIdleMs !== undefined ? { idleMs: opts.relayIdleMs } : {}),
      }),
    );
    jobs.register(RECONCILE_JOB, createIntentReconciler(audit, clock));
    jobs.register(SUMMARIZE_REFUSALS_JOB, createRefusalSummarizer(deps));
    jobs.register(PRUNE_SEEN_JOB, (_payload, ctx) => pruneSeenRequests(deps, ctx.em));
    registerJobs(jobs, { deps, notifier: slack.notifier, teamId: slack.teamId });
    const em = db.em.fork();
    await warnAboutPrivileges(db, logger);
    if (!config.auditChannel)
      logger.warn('DUO_DESK_AUDIT_CHANNEL is not set: audit events wait in the outbox until it is');
    // The installation's chain under the current key now (seal an older chain, record a rotation), and
    // step-up secrets from before binding bound to their rows, before any request is served.
    await audit.seal(em, slack.teamId);
    await bindUnboundSecrets(deps, em);
    // Duo's own settings, the ceiling over duo-desk's: read now (a failure keeps the last ones) and hourly.
    await refreshDuoSettings(em, { duo, clock, logger, audit: { deps, teamId: slack.teamId } });
    jobs.register(DUO_SETTINGS_JOB, createDuoSettingsJob(deps, slack.teamId));
    await jobs.enqueue(em, {
      kind: DUO_SETTINGS_JOB,
      dedupeKey: DUO_SETTINGS_JOB,
      runAt: new Date(clock.now().getTime() + DUO_SETTINGS_INTERVAL_MS),
    });
    await jobs.enqueue(em, { kind: RECONCILE_JOB, dedupeKey: RECONCILE_JOB });
    await jobs.enqueue(em, { kind: SUMMARIZE_REFUSALS_JOB, dedupeKey: SUMMARIZE_REFUSALS_JOB });
    await jobs.enqueue(em, { kind: PRUNE_SEEN_JOB, dedupeKey: PRUNE_SEEN_JOB });
    // The typeahead's directory index: a paced full pass now and hourly (lookups refresh single users).
    await scheduleDirectorySync(jobs, em, { duo, clock });
    if (config.auditChannel)
      await jobs.enqueue(em, {
        kind: 'audit.relay',
        payload: { teamId: slack.teamId },
        dedupeKey: relayJobKey(slack.teamId),
      });
    if (opts.startJobs !== false) jobs.start();

    return {
      deps,
      metrics,
      metricsPort: metricsServer?.port,
      slack,
      jobs,
      db,
      /**
       * Graceful: no new requests, in-flight ones finish, running jobs finish or have their leases released,
       * all within `budgetMs`; then the database closes.
       */
      async stop(budgetMs = 9000) {
        const deadline = Date.now() + budgetMs;
        await slack.stop(Math.floor(budgetMs * 0.6)).catch((e) => logger.warn('slack stop failed', { err: e }));
        await jobs.stop(Math.max(500, deadline - Date.now()));
        await metricsServer?.close();
        if (ownDb) await db.close();
      },
    };
  } catch (e) {
    if (ownDb) await db.close();
    throw e;
  }
}

/** A role that can rewrite the audit trail defeats it: say so at start-up (the embedded database has only one role). */
async function warnAboutPrivileges(db: Database, logger: Logger): Promise<void> {
  const { problems } = await checkAuditPrivileges(db.em.fork());
  for (const problem of problems)
    if (db.kind === 'server') logger.warn(problem);
    else logger.debug(problem);
}
