import { randomBytes } from 'node:crypto';
import {
  type Clock,
  DEMO_DIRECTORIES,
  type DuoSimulator,
  demoDirectory,
  makePhone,
  makeUser,
  type SimUser,
  startDuoSimulator,
} from '@duo-desk/duo-sim';
import { type FakeSlack, type FakeUser, startFakeSlack } from '@duo-desk/slack-testbed';
import type { AuditTrail } from '../audit/trail.js';
import { type Config, loadConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { Responder } from '../db/entities.js';
import type { Role } from '../domain/roles.js';
import { LOCAL_CHANNEL_LIST, LOCAL_CHANNELS, LOCAL_PEOPLE, LOCAL_TEAM_ID } from './local-directory.js';

/** `duo-desk sim`: the simulator on its own, loaded only when asked for. */
export { runSimulatorCli } from '@duo-desk/duo-sim/cli';

/**
 * The sandbox duo-desk runs in when there is no real workspace or tenant: the local Slack stand-in holding the
 * local people and channels (local-directory.ts), the Duo simulator, and the settings that point the app at
 * both. Local mode, the tests and the benchmarks start this one set-up; what they need differently is an option.
 * Production never loads this file (src/app/main.ts imports local mode dynamically), so the fakes stay out of it.
 */
export interface SandboxOptions {
  /** Slack users besides the local people. */
  users?: FakeUser[];
  /** Connect over Socket Mode: the stand-in then hands out connections for a fresh app-level token only. */
  socketMode?: boolean;
  /** The simulator's time (push windows, auto-answers), so a test can move it with the app's clock. */
  clock?: Clock;
  /** How long a verification push waits for an answer before it times out (Duo's default is 120 s). */
  pushTimeoutMs?: number;
  /**
   * The simulator's directory; `false` starts no simulator (a real Duo tenant is configured). Default: demo, which
   * also holds the responders' own Duo accounts (staffDuoAccounts), so they can bind step-up to them.
   */
  directory?: 'demo' | 'empty' | SimUser[] | false;
}

/** Email of a local person in the stand-in Slack; their own Duo account (if any) has the same one. */
export const localEmail = (name: string) => `${name}@example.com`;

/**
 * The local responders' own Duo accounts (same email as in Slack, one iPhone each): step-up is bound to the
 * Duo user whose email is the responder's Slack email.
 */
export function staffDuoAccounts(): SimUser[] {
  return LOCAL_PEOPLE.filter((p) => p.role).map((p, i) =>
    makeUser({
      username: p.name,
      realname: p.realName,
      email: localEmail(p.name),
      phones: [makePhone(p.name, 1, 'iphone', `+1555555090${i}`, '2026-11-20T09:00:00')],
    }),
  );
}

export interface Sandbox {
  slack: FakeSlack;
  duo: DuoSimulator | undefined;
  /** The secret the stand-in signs its requests to the app with (the app verifies them with it). */
  signingSecret: string;
  /**
   * `base` pointed at the sandbox: Slack calls go to the stand-in, Duo calls to the simulator (a tenant already in
   * `base` is kept), and the audit and approval channels are the stand-in's unless `base` names others. The Slack
   * mode stays the caller's choice (local mode keeps 'local'; tests run 'http' or 'socket' as production does).
   */
  pointAt(base: Config): Config;
  /**
   * A configuration as an operator writes it for a real workspace (HTTP, or Socket Mode with `socketMode`; a
   * configured encryption key), on loopback and an ephemeral port, pointed at the sandbox: for tests and benchmarks,
   * which run the app as production does rather than in local mode.
   */
  connectedConfig(logLevel: Config['logLevel']): Config;
  close(): Promise<void>;
}

type WithSimulator = SandboxOptions & { directory?: 'demo' | 'empty' | SimUser[] };

export function startSandbox(opts?: WithSimulator): Promise<Sandbox & { duo: DuoSimulator }>;
export function startSandbox(opts: SandboxOptions): Promise<Sandbox>;
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const appToken = opts.socketMode ? `xapp-1-A0DUODESK-${randomBytes(8).toString('hex')}` : undefined;
  const slack = await startFakeSlack({
    teamId: LOCAL_TEAM_ID,
    ...(appToken ? { appToken } : {}),
    users: [
      ...LOCAL_PEOPLE.map((p) => ({
        id: p.id,
        name: p.name,
        realName: p.realName,
        email: localEmail(p.name),
        ...(p.teamId ? { teamId: p.teamId } : {}),
      })),
      ...(opts.users ?? []),
    ],
    channels: LOCAL_CHANNEL_LIST,
  });
  let duo: DuoSimulator | undefined;
  try {
    if (opts.directory !== false)
      duo = await startDuoSimulator({
        directory:
          (opts.directory ?? 'demo') === 'demo' ? [...demoDirectory(), ...staffDuoAccounts()] : opts.directory!,
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(opts.pushTimeoutMs ? { pushTimeoutMs: opts.pushTimeoutMs } : {}),
      });
  } catch (e) {
    await slack.close();
    throw e;
  }
  const signingSecret = randomBytes(24).toString('hex');
  const pointAt = (base: Config): Config => ({
    ...base,
    slack: { signingSecret, botToken: slack.botToken, appToken, apiUrl: slack.apiUrl },
    duo: base.duo ?? (duo ? { ikey: duo.ikey, skey: duo.skey, host: duo.url } : undefined),
    auditChannel: base.auditChannel ?? LOCAL_CHANNELS.audit,
    approvalChannel: base.approvalChannel ?? LOCAL_CHANNELS.approvals,
    // The simulator's synced directories, for one-user syncs (a configured list wins).
    directories: base.directories?.length
      ? base.directories
      : duo && !base.duo
        ? DEMO_DIRECTORIES.map((d) => ({ key: d.directory_key, name: d.name }))
        : (base.directories ?? []),
  });
  return {
    slack,
    duo,
    signingSecret,
    pointAt,
    connectedConfig: (logLevel) =>
      pointAt({
        ...loadConfig({
          PORT: '0',
          HOST: '127.0.0.1',
          DUO_DESK_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
          DUO_DESK_AUDIT_KEY: randomBytes(32).toString('base64'),
          LOG_LEVEL: logLevel,
        }),
        slackMode: appToken ? 'socket' : 'http',
      }),
    async close() {
      await duo?.close();
      await slack.close();
    },
  };
}

/**
 * Makes `userId` a responder with `role` (or changes theirs): set-up, not a flow, but audited in the same
 * transaction like every responder change, so it never shows up as a change made outside duo-desk.
 */
export async function grantResponder(
  db: Database,
  audit: AuditTrail,
  grant: { userId: string; role: Role; approver: boolean; grantedBy: string },
): Promise<void> {
  await db.em.fork().transactional(async (em) => {
    const existing = await em.findOne(Responder, { teamId: LOCAL_TEAM_ID, userId: grant.userId });
    const previousRole = existing?.role ?? null;
    if (existing) {
      existing.role = grant.role;
      existing.approver = grant.approver;
    } else em.create(Responder, { teamId: LOCAL_TEAM_ID, ...grant });
    await em.flush();
    await audit.record(em, {
      teamId: LOCAL_TEAM_ID,
      actor: { system: 'duo-desk' },
      action: 'responder.granted',
      outcome: 'success',
      params: {
        responder: grant.userId,
        role: grant.role,
        approver: grant.approver,
        previousRole,
        setUp: grant.grantedBy,
      },
    });
  });
}

/** The local people's roles (LOCAL_PEOPLE), so the first `/duo help` works without any set-up. */
export async function grantLocalResponders(db: Database, audit: AuditTrail, grantedBy: string): Promise<void> {
  for (const p of LOCAL_PEOPLE)
    if (p.role) await grantResponder(db, audit, { userId: p.id, role: p.role, approver: p.approver, grantedBy });
}
