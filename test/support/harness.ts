import { randomBytes } from 'node:crypto';
import { LOCAL_CHANNELS, LOCAL_PEOPLE, LOCAL_TEAM_ID } from '../../src/app/local-directory.js';
import { type Runtime, startRuntime } from '../../src/app/runtime.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { Role } from '../../src/domain/roles.js';
import { type DuoSimulator, startDuoSimulator } from '../../src/duo-sim/index.js';
import { createMemoryLogger } from '../../src/log.js';
import { type FakeSlack, SlackDriver, startFakeSlack } from '../../src/slack-testbed/index.js';
import { applyGrant, applyRevoke } from '../../src/usecases/responders.js';
import { TEST_AUDIT_KEY } from './audit.js';
import { attachDatabase, freshDatabase } from './db.js';
import { assertNoSecretLeaks } from './secret-scan.js';

/**
 * The whole app, as production builds it (src/app/runtime.ts), against the local Slack test bed,
 * the Duo simulator over HTTP and a real PostgreSQL. Tests drive it only through signed HTTP.
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
  users?: Array<{ id: string; name: string; realName?: string; email?: string; teamId?: string }>;
  pushTimeoutMs?: number;
  verificationPollMs?: number;
  /** Connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP. */
  socketMode?: boolean;
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

/** Who the harness's own grants and revocations are audited as. */
const SET_UP = { userId: 'test-set-up', role: null };

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const db = await freshDatabase();
  const appToken = opts.socketMode ? `xapp-1-A0DUODESK-${randomBytes(8).toString('hex')}` : undefined;
  const slack = await startFakeSlack({
    teamId: LOCAL_TEAM_ID,
    ...(appToken ? { appToken } : {}),
    users: [
      ...LOCAL_PEOPLE.map((p) => ({ id: p.id, name: p.name, realName: p.realName, email: `${p.name}@example.com` })),
      ...(opts.users ?? []),
    ],
    channels: [
      { id: LOCAL_CHANNELS.helpdesk, name: 'help-desk' },
      { id: LOCAL_CHANNELS.audit, name: 'duo-desk-audit' },
      { id: LOCAL_CHANNELS.approvals, name: 'duo-desk-approvals' },
    ],
  });
  const duo = await startDuoSimulator({
    directory: 'demo',
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.pushTimeoutMs ? { pushTimeoutMs: opts.pushTimeoutMs } : {}),
  });
  const signingSecret = randomBytes(16).toString('hex');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
    ...(appToken ? { SLACK_APP_TOKEN: appToken } : {}),
    DUO_IKEY: duo.ikey,
    DUO_SKEY: duo.skey,
    DUO_HOST: duo.url,
    DUO_DESK_AUDIT_CHANNEL: LOCAL_CHANNELS.audit,
    DUO_DESK_APPROVAL_CHANNEL: LOCAL_CHANNELS.approvals,
    DUO_DESK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DUO_DESK_AUDIT_KEY: TEST_AUDIT_KEY,
    LOG_LEVEL: 'debug',
  });
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
    // Through the app's own path, audited in the same transaction (so nothing here shows up as a
    // change made outside duo-desk), by a set-up actor no test mistakes for the CLI or a person.
    async grant(userId, role, approver = false) {
      const input = { teamId: LOCAL_TEAM_ID, userId, role, approver };
      await applyGrant(runtime.deps, db.em.fork(), SET_UP, input, 'test');
    },
    async revoke(userId) {
      await applyRevoke(runtime.deps, db.em.fork(), SET_UP, LOCAL_TEAM_ID, userId, 'test');
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
      await duo.close();
      await slack.close();
      await db.drop();
      if (leak) throw leak;
    },
  };
  for (const p of LOCAL_PEOPLE) if (p.role) await h.grant(p.id, p.role, p.approver);
  return h;
}
