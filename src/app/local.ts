import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { DEMO_PURPOSES, type DuoSimulator } from '@duo-desk/duo-sim';
import { type FakeSlack, SlackDriver } from '@duo-desk/slack-testbed';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { acquireDataDirLock } from '../db/embedded.js';
import { Responder } from '../db/entities.js';
import { ROLE_LABELS } from '../domain/roles.js';
import { AppError, isAppError } from '../errors.js';
import type { Logger } from '../log.js';
import { startConsole } from './local-console.js';
import { LOCAL_PEOPLE, localStatePath } from './local-directory.js';
import { createLocalPage } from './local-page.js';
import { LocalWorkspace } from './local-workspace.js';
import { type Runtime, startRuntime } from './runtime.js';
import { grantLocalResponders, staffDuoAccounts, startSandbox } from './sandbox.js';

/**
 * Local mode, the first thing a new user runs: the bot against the local Slack stand-in, the embedded database and
 * (unless DUO_* is set) the Duo simulator. The bot's own HTTP server also serves the local workspace page (only
 * here: production never adds its routes), and a loopback console lets `duo-desk slack --as U123 "/duo help"`
 * act through the same workspace from a terminal.
 */
export interface LocalMode {
  runtime: Runtime;
  slack: FakeSlack;
  duoSim: DuoSimulator | undefined;
  /** The workspace page: http://127.0.0.1:PORT/ */
  pageUrl: string;
  consoleUrl: string;
  stop(): Promise<void>;
}

export interface LocalModeOptions {
  /** An already open database (tests); otherwise the configured or embedded one. */
  database?: Database;
}

/** What local-mode.json holds, for `duo-desk slack` and the page's "copy as curl". */
export interface LocalState {
  pid: number;
  pageUrl: string;
  consoleUrl: string;
  token: string;
  /** The stand-in's signing secret (random at each start): "copy as curl" signs with it, as Slack would. */
  signingSecret: string;
  slackApiUrl: string;
  botToken: string;
}

export async function startLocalMode(config: Config, logger: Logger, opts: LocalModeOptions = {}): Promise<LocalMode> {
  mkdirSync(config.dataDir, { recursive: true });
  const releaseLock = lockLocalMode(config.dataDir);
  try {
    return await start(config, logger, opts, releaseLock);
  } catch (e) {
    releaseLock();
    throw e;
  }
}

async function start(config: Config, logger: Logger, opts: LocalModeOptions, releaseLock: () => void) {
  const sandbox = await startSandbox({ directory: config.duo ? false : 'demo' });
  const { slack, duo: duoSim, signingSecret } = sandbox;
  // So a verification completes on its own in the demo: alice approves her pushes after a few seconds.
  duoSim?.setAutoAnswer('alice', { result: 'approve', afterMs: 8000 });
  // And the demo responders' own phones approve the push that binds their step-up enrollment (/duo mfa).
  for (const staff of staffDuoAccounts()) duoSim?.setAutoAnswer(staff.username, { result: 'approve', afterMs: 3000 });
  const statePath = resolve(localStatePath(config.dataDir));
  let workspace: LocalWorkspace | undefined;
  let eventsUrl = '';
  const page = createLocalPage({
    workspace: () => workspace,
    wire: () => ({ eventsUrl, stateFile: statePath }),
    logger,
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      config: sandbox.pointAt({ ...config, slackMode: 'local' }),
      logger,
      webApiRetries: 0,
      routes: page.routes,
      ...(opts.database ? { database: opts.database } : {}),
    });
  } catch (e) {
    await sandbox.close();
    throw e;
  }
  await seedDemoResponders(runtime);
  const base = `http://127.0.0.1:${runtime.slack.port}`;
  eventsUrl = `${base}/slack/events`;
  workspace = new LocalWorkspace(slack, new SlackDriver({ slack, signingSecret, eventsUrl }), duoSim);
  const token = randomBytes(24).toString('hex');
  const consoleServer: Server = await startConsole(workspace, token, logger);
  const addr = consoleServer.address();
  const consoleUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const state: LocalState = {
    pid: process.pid,
    pageUrl: `${base}/`,
    consoleUrl,
    token,
    signingSecret,
    // The stand-in's API URL and token let `duo-desk audit verify --witness` read its audit channel back.
    slackApiUrl: slack.apiUrl,
    botToken: slack.botToken,
  };
  writeFileSync(statePath, JSON.stringify(state), { mode: 0o600 });
  return {
    runtime,
    slack,
    duoSim,
    pageUrl: state.pageUrl,
    consoleUrl,
    async stop() {
      page.close();
      await new Promise<void>((r) => consoleServer.close(() => r()));
      await runtime.stop();
      await sandbox.close();
      rmSync(statePath, { force: true });
      releaseLock();
    },
  };
}

/**
 * One local mode per data directory: a second one would run another bot on the first one's database (it finds the
 * embedded database the first serves) and take over its local-mode.json.
 */
function lockLocalMode(dataDir: string): () => void {
  try {
    return acquireDataDirLock(resolve(dataDir), 'local-mode.lock');
  } catch (e) {
    if (!isAppError(e) || e.code !== 'DATA_DIR_LOCKED') throw e;
    let running: Partial<LocalState> = {};
    try {
      running = JSON.parse(readFileSync(localStatePath(dataDir), 'utf8'));
    } catch {
      // still starting: no state file yet
    }
    const where = running.pageUrl ? `; its workspace is at ${running.pageUrl}` : '';
    throw new AppError(
      'DATA_DIR_LOCKED',
      `duo-desk is already running in local mode on ${resolve(dataDir)}${running.pid ? ` (pid ${running.pid})` : ''}${where}. Use that one, or stop it first (Ctrl-C where it runs${running.pid ? `, or kill ${running.pid}` : ''}). A second, separate local mode needs its own DUO_DESK_DATA_DIR (and PORT).`,
    );
  }
}

/**
 * Demo responders for the stand-in workspace only (a real workspace starts empty: the CLI grants). Only into an
 * empty team, so roles changed with `/duo roles` stay changed across restarts.
 */
async function seedDemoResponders(runtime: Runtime): Promise<void> {
  if ((await runtime.db.em.fork().count(Responder, { teamId: runtime.slack.teamId })) > 0) return;
  await grantLocalResponders(runtime.db, runtime.deps.audit, 'local-mode');
}

/** What `npm start` prints in local mode: the page first, then who is who and what else listens. */
export function localModeBanner(local: LocalMode, config: Config): string {
  const port = local.runtime.slack.port;
  const people = LOCAL_PEOPLE.map((p) => {
    const what = p.role
      ? `${ROLE_LABELS[p.role]}${p.approver ? ', approver' : ''}`
      : p.teamId
        ? 'from another workspace'
        : 'no role';
    return `    ${p.id.padEnd(5)} ${p.realName.padEnd(14)} ${what}`;
  });
  const duoUsers = local.duoSim
    ? Object.entries(DEMO_PURPOSES).map(
        ([name, purpose]) =>
          `    ${name.padEnd(8)} ${purpose}${name === 'alice' ? ' (approves her own pushes after 8 s)' : ''}`,
      )
    : ['    your tenant (DUO_HOST): answer pushes on the real phones'];
  return [
    '',
    'duo-desk is running in local mode (no Slack workspace, no Duo tenant needed).',
    '',
    `  Open ${local.pageUrl} in your browser: a local Slack workspace with duo-desk in it.`,
    '  Pick a person at the top, type /duo help in #help-desk, and answer Duo pushes on the phone panel.',
    '',
    'People in the workspace:',
    ...people,
    'Demo Duo users:',
    ...duoUsers,
    '',
    'From a terminal instead:',
    '  npx duo-desk slack --as U234 "/duo lookup bob"',
    '  npx duo-desk slack --as U234 --click Unlock',
    '  npx duo-desk slack --help',
    '',
    `  Slack events:   http://127.0.0.1:${port}/slack/events (signed requests only)`,
    `  Health:         http://127.0.0.1:${port}/healthz   readiness: /readyz`,
    `  Slack stand-in: ${local.slack.baseUrl}`,
    local.duoSim
      ? `  Duo simulator:  ${local.duoSim.url} (control API: /__sim/pushes)`
      : '  Duo:            your tenant (DUO_HOST)',
    `  Database:       ${local.runtime.db.kind === 'embedded' ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL'}`,
    `  Stop with Ctrl-C, or kill ${process.pid}.`,
    '',
  ].join('\n');
}
