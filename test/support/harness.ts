import type { DuoSimulator } from '@duo-desk/duo-sim';
import { type FakeSlack, type FakeUser, SlackDriver } from '@duo-desk/slack-testbed';
import { LOCAL_CHANNELS, LOCAL_TEAM_ID } from '../../src/app/local-directory.js';
import { type Runtime, startRuntime } from '../../src/app/runtime.js';
import { grantLocalResponders, grantResponder, startSandbox } from '../../src/app/sandbox.js';
import type { Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import type { Role } from '../../src/domain/roles.js';
import { createMemoryLogger } from '../../src/log.js';
import type { AnyKind } from '../../src/usecases/approval-model.js';
import { applyRevoke } from '../../src/usecases/responders.js';
import { TEST_AUDIT_KEY } from './audit-key.js';
import { attachDatabase, freshDatabase } from './db.js';
import { assertNoSecretLeaks } from './secret-scan.js';

/**
 * The whole app, as production builds it (src/app/runtime.ts), in the sandbox local mode uses (src/app/sandbox.ts:
 * the local Slack test bed and the Duo simulator over HTTP) and on a real PostgreSQL. Tests drive it only through
 * signed HTTP (or Socket Mode).
 */
export interface Harness {
  runtime: Runtime;
  slack: FakeSlack;
  duo: DuoSimulator;
  driver: SlackDriver;
  logger: ReturnType<typeof createMemoryLogger>;
  signingSecret: string;
  eventsUrl: string;
  grant(userId: string, role: Role, approver?: boolean): Promise<void>;
  revoke(userId: string): Promise<void>;
  /** A second app instance on the same database (and the same Slack and Duo). */
  addInstance(): Promise<{ runtime: Runtime; driver: SlackDriver }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock?: Clock;
  startJobs?: boolean;
  /** Extra Slack users (beyond the local demo people). */
  users?: FakeUser[];
  pushTimeoutMs?: number;
  verificationPollMs?: number;
  /** Connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP. */
  socketMode?: boolean;
  /** Approval kinds beyond the built-in ones (a test's own kind). */
  extraKinds?: readonly AnyKind[];
  /** Configuration on top of the sandbox's (METRICS_TOKEN etc.). */
  config?: Partial<Config>;
}

export const TEAM = LOCAL_TEAM_ID;
export const CHANNELS = LOCAL_CHANNELS;
export const PEOPLE = {
  owner: 'U123',
  helpDesk: 'U234',
  userManager: 'U345',
  readOnly: 'U456',
  stranger: 'U567',
} as const;

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const db = await freshDatabase();
  const sandbox = await startSandbox({
    users: opts.users,
    socketMode: opts.socketMode,
    clock: opts.clock,
    pushTimeoutMs: opts.pushTimeoutMs,
  });
  const { slack, duo, signingSecret } = sandbox;
  // This process's audit key, so the CLI child processes (test/support/cli.ts) link to the same chain.
  const config = { ...sandbox.connectedConfig('debug'), auditKey: TEST_AUDIT_KEY, ...opts.config };
  const logger = createMemoryLogger('debug');
  const runtimeOptions = {
    config,
    logger,
    startJobs: opts.startJobs ?? true,
    jobPollIntervalMs: 25,
    relayPaceMs: 0,
    verificationPollMs: opts.verificationPollMs ?? 50,
    // Duo failures must show within a test's patience: a short timeout, one 429 retry, brief back-off.
    duoClient: {
      timeoutMs: 3000,
      maxRateLimitRetries: 1,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 100))),
    },
    webApiRetries: 0,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.extraKinds ? { extraKinds: opts.extraKinds } : {}),
  };
  const runtime = await startRuntime({ ...runtimeOptions, database: db });
  const eventsUrl = `http://127.0.0.1:${runtime.slack.port}/slack/events`;
  const driver = opts.socketMode
    ? new SlackDriver({ slack, signingSecret, socket: true })
    : new SlackDriver({ slack, signingSecret, eventsUrl });
  const others: Array<{ runtime: Runtime; close(): Promise<void> }> = [];
  const h: Harness = {
    runtime,
    slack,
    duo,
    driver,
    logger,
    signingSecret,
    eventsUrl,
    grant: (userId, role, approver = false) =>
      grantResponder(db, runtime.deps.audit, { userId, role, approver, grantedBy: 'test' }),
    // Audited in the same transaction, as the app does, so it never shows up as a change made outside duo-desk.
    async revoke(userId) {
      await applyRevoke(
        runtime.deps,
        db.em.fork(),
        { userId: 'test-set-up', role: null },
        LOCAL_TEAM_ID,
        userId,
        'test',
      );
    },
    async addInstance() {
      const second = await attachDatabase(db);
      const rt = await startRuntime({ ...runtimeOptions, database: second });
      others.push({ runtime: rt, close: () => second.close() });
      const d = new SlackDriver({ slack, signingSecret, eventsUrl: `http://127.0.0.1:${rt.slack.port}/slack/events` });
      return { runtime: rt, driver: d };
    },
    async close() {
      // Every end-to-end file ends with the leak scan: a leak fails the file that caused it.
      const leak = await assertNoSecretLeaks(h).then(
        () => undefined,
        (e: unknown) => e,
      );
      for (const o of others) {
        await o.runtime.stop();
        await o.close();
      }
      await runtime.stop();
      await sandbox.close();
      await db.drop();
      if (leak) throw leak;
    },
  };
  await grantLocalResponders(db, runtime.deps.audit, 'test');
  return h;
}
