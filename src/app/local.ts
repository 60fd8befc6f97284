import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { DEMO_USERNAMES, type DuoSimulator } from '@duo-desk/duo-sim';
import { type FakeSlack, SlackDriver } from '@duo-desk/slack-testbed';
import { z } from 'zod';
import type { Config } from '../config.js';
import { Responder } from '../db/entities.js';
import type { Logger } from '../log.js';
import { LOCAL_CHANNELS, LOCAL_PEOPLE, localStatePath } from './local-directory.js';
import { type Runtime, startRuntime } from './runtime.js';
import { grantLocalResponders, staffDuoAccounts, startSandbox } from './sandbox.js';
import { renderCall } from './terminal-render.js';

/**
 * Local mode, the first thing a new user runs: the bot against the local Slack stand-in, the
 * embedded database and (unless DUO_* is set) the Duo simulator. A loopback console lets
 * `duo-desk slack --as U123 "/duo help"` send signed commands through the real HTTP path.
 */
export interface LocalMode {
  runtime: Runtime;
  slack: FakeSlack;
  duoSim: DuoSimulator | undefined;
  consoleUrl: string;
  stop(): Promise<void>;
}

export async function startLocalMode(config: Config, logger: Logger): Promise<LocalMode> {
  const sandbox = await startSandbox({ directory: config.duo ? false : 'demo' });
  const { slack, duo: duoSim, signingSecret } = sandbox;
  // So a verification completes on its own in the demo: alice approves her pushes after a few seconds.
  duoSim?.setAutoAnswer('alice', { result: 'approve', afterMs: 8000 });
  // And the demo responders' own phones approve the push that binds their step-up enrollment (/duo mfa).
  for (const staff of staffDuoAccounts()) duoSim?.setAutoAnswer(staff.username, { result: 'approve', afterMs: 3000 });
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      config: sandbox.pointAt({ ...config, slackMode: 'local' }),
      logger,
      webApiRetries: 0,
    });
  } catch (e) {
    await sandbox.close();
    throw e;
  }
  await seedDemoResponders(runtime);
  const eventsUrl = `http://127.0.0.1:${runtime.slack.port}/slack/events`;
  const driver = new SlackDriver({ slack, signingSecret, eventsUrl });
  const token = randomBytes(24).toString('hex');
  const consoleServer = await startConsole(slack, driver, token, logger);
  const addr = consoleServer.address();
  const consoleUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  mkdirSync(config.dataDir, { recursive: true });
  // The stand-in's API URL and token let `duo-desk audit verify --witness` read its audit channel back.
  writeFileSync(
    localStatePath(config.dataDir),
    JSON.stringify({ consoleUrl, token, pid: process.pid, slackApiUrl: slack.apiUrl, botToken: slack.botToken }),
    { mode: 0o600 },
  );
  return {
    runtime,
    slack,
    duoSim,
    consoleUrl,
    async stop() {
      await new Promise<void>((r) => consoleServer.close(() => r()));
      await runtime.stop();
      await sandbox.close();
    },
  };
}

/**
 * Demo responders for the stand-in workspace only (a real workspace starts empty: the CLI grants). Only into an
 * empty team, so roles changed with `/duo roles` stay changed across restarts.
 */
async function seedDemoResponders(runtime: Runtime): Promise<void> {
  if ((await runtime.db.em.fork().count(Responder, { teamId: runtime.slack.teamId })) > 0) return;
  await grantLocalResponders(runtime.db, runtime.deps.audit, 'local-mode');
}

/** What `npm start` prints in local mode: where things listen and what to try. */
export function localModeBanner(local: LocalMode, config: Config): string {
  const port = local.runtime.slack.port;
  const demoUsers = DEMO_USERNAMES.slice(0, 6).join(', ');
  return [
    '',
    'duo-desk is running in local mode (no Slack workspace, no Duo tenant needed).',
    `  Slack events:   http://127.0.0.1:${port}/slack/events (signed requests only)`,
    `  Health:         http://127.0.0.1:${port}/healthz   readiness: /readyz`,
    `  Slack stand-in: ${local.slack.baseUrl}`,
    local.duoSim
      ? `  Duo simulator:  ${local.duoSim.url} (demo users: ${demoUsers}, …)`
      : '  Duo:            your tenant (DUO_HOST)',
    `  Database:       ${local.runtime.db.kind === 'embedded' ? `embedded PostgreSQL in ${config.dataDir}` : 'DATABASE_URL'}`,
    '',
    `Demo responders: ${LOCAL_PEOPLE.filter((p) => p.role)
      .map((p) => `${p.id} (${p.role}${p.approver ? ', approver' : ''})`)
      .join(', ')}`,
    'Try, in another terminal:',
    '  npx duo-desk slack --as U123 "/duo help"',
    '  npx duo-desk slack --as U234 "/duo lookup bob"',
    '',
  ].join('\n');
}

const consoleRequest = z.object({
  userId: z.string().regex(/^[UW][A-Z0-9]+$/),
  text: z.string().max(500),
  channelId: z.string().optional(),
  waitMs: z.number().int().min(0).max(10_000).optional(),
});

function startConsole(slack: FakeSlack, driver: SlackDriver, token: string, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${token}`);
    if (
      req.method !== 'POST' ||
      req.url !== '/command' ||
      auth.length !== expected.length ||
      !timingSafeEqual(auth, expected)
    ) {
      res.writeHead(404).end();
      return;
    }
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', async () => {
      try {
        const input = consoleRequest.parse(JSON.parse(raw));
        const from = slack.calls.length;
        const text = input.text.replace(/^\/duo\s*/, '');
        const ack = await driver.command(input.userId, text, {
          ...(input.channelId ? { channelId: input.channelId } : {}),
        });
        await new Promise((r) => setTimeout(r, input.waitMs ?? 1500));
        const outputs: string[] = [];
        if (ack.body && typeof ack.body === 'object') {
          const shown = renderCall('ack', ack.body as Record<string, unknown>);
          if (shown) outputs.push(shown);
        }
        for (const call of slack.calls.slice(from)) {
          if (call.method === 'audit' || (call.args as { channel?: string }).channel === LOCAL_CHANNELS.audit) continue;
          const shown = renderCall(call.method, call.args as Record<string, unknown>);
          if (shown) outputs.push(shown);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ack.status, outputs }));
      } catch (e) {
        logger.warn('local console request failed', { err: e });
        res
          .writeHead(400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: 'bad request: expected {userId, text}' }));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
