import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config.js';
import { Responder } from '../db/entities.js';
import { type DuoSimulator, startDuoSimulator } from '../duo-sim/index.js';
import type { Logger } from '../log.js';
import { type FakeSlack, SlackDriver, startFakeSlack } from '../slack-testbed/index.js';
import { LOCAL_CHANNELS, LOCAL_PEOPLE, LOCAL_TEAM_ID } from './local-directory.js';
import { type Runtime, startRuntime } from './runtime.js';
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

export const localStatePath = (dataDir: string) => join(dataDir, 'local-mode.json');

export async function startLocalMode(config: Config, logger: Logger): Promise<LocalMode> {
  const slack = await startFakeSlack({
    teamId: LOCAL_TEAM_ID,
    users: LOCAL_PEOPLE.map((p) => ({ id: p.id, name: p.name, realName: p.realName, email: `${p.name}@example.com` })),
    channels: [
      { id: LOCAL_CHANNELS.helpdesk, name: 'help-desk' },
      { id: LOCAL_CHANNELS.audit, name: 'duo-desk-audit' },
      { id: LOCAL_CHANNELS.approvals, name: 'duo-desk-approvals' },
    ],
  });
  const duoSim = config.duo ? undefined : await startDuoSimulator({ directory: 'demo' });
  // So a verification completes on its own in the demo: alice approves her pushes after a few seconds.
  duoSim?.setAutoAnswer('alice', { result: 'approve', afterMs: 8000 });
  const signingSecret = randomBytes(24).toString('hex');
  const local: Config = {
    ...config,
    slackMode: 'local',
    slack: { signingSecret, botToken: slack.botToken, appToken: undefined, apiUrl: slack.apiUrl },
    duo: config.duo ?? { ikey: duoSim!.ikey, skey: duoSim!.skey, host: duoSim!.url },
    auditChannel: config.auditChannel ?? LOCAL_CHANNELS.audit,
    approvalChannel: config.approvalChannel ?? LOCAL_CHANNELS.approvals,
  };
  let runtime: Runtime;
  try {
    runtime = await startRuntime({ config: local, logger, webApiRetries: 0 });
  } catch (e) {
    await duoSim?.close();
    await slack.close();
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
      await duoSim?.close();
      await slack.close();
    },
  };
}

/**
 * Demo responders for the stand-in workspace only (a real workspace starts empty: the CLI grants),
 * audited in the same transaction like every responder change.
 */
async function seedDemoResponders(runtime: Runtime): Promise<void> {
  const teamId = runtime.slack.teamId;
  await runtime.db.em.fork().transactional(async (em) => {
    if ((await em.count(Responder, { teamId })) > 0) return;
    for (const p of LOCAL_PEOPLE)
      if (p.role) {
        em.create(Responder, { teamId, userId: p.id, role: p.role, approver: p.approver, grantedBy: 'local-mode' });
        await em.flush();
        await runtime.deps.audit.record(em, {
          teamId,
          actor: { system: 'duo-desk' },
          action: 'responder.granted',
          outcome: 'success',
          params: { responder: p.id, role: p.role, approver: p.approver, previousRole: null, note: 'local-mode demo' },
        });
      }
  });
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
