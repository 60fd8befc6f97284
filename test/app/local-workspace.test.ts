import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { signSlackRequest } from '@duo-desk/slack-testbed';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalState, startLocalMode } from '../../src/app/local.js';
import { localStatePath } from '../../src/app/local-directory.js';
import type { PageScreen } from '../../src/app/local-workspace.js';
import { loadConfig } from '../../src/config.js';
import { createMemoryLogger } from '../../src/log.js';
import { CHANNELS } from '../support/harness.js';
import { type LocalModeHarness, startLocalModeHarness } from '../support/local-mode.js';

/**
 * The local workspace without a browser: what each person's screen holds (the page draws exactly this), who may use
 * the page's API at all, and the terminal's way in (`duo-desk slack`). Local mode as `npm start` runs it.
 */
const AGENT = 'U234';
const MANAGER = 'U345';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let h: LocalModeHarness;
beforeAll(async () => {
  h = await startLocalModeHarness();
});
afterAll(async () => {
  await h?.close();
});

const act = (as: string, a: unknown, headers: Record<string, string> = {}) =>
  fetch(`${h.base}/workspace/api/act`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: h.base, ...headers },
    body: JSON.stringify({ as, act: a }),
  });

/** The first screen the page's event stream sends for `as`. */
async function screenOf(as: string): Promise<PageScreen> {
  const controller = new AbortController();
  const res = await fetch(`${h.base}/workspace/api/stream?as=${as}`, { signal: controller.signal });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.getReader();
  let text = '';
  while (!/\n\n/.test(text.slice(text.indexOf('data: '))))
    text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  return JSON.parse(text.slice(text.indexOf('data: ') + 6).split('\n')[0]!);
}

const textOf = (s: PageScreen) => JSON.stringify(s.conversations);

async function until(as: string, seen: (s: PageScreen) => boolean): Promise<PageScreen> {
  for (let i = 0; i < 100; i++) {
    const s = await screenOf(as);
    if (seen(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${as}'s screen never showed what was waited for`);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/app/cli.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DUO_DESK_DATA_DIR: h.dataDir },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({
          code: err ? (typeof err.code === 'number' ? err.code : -1) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
        }),
    );
  });
}

describe('what each person sees in the local workspace', () => {
  it("when the agent runs a command, then the ephemeral answer is on the agent's screen and not on the manager's", async () => {
    const r = await act(AGENT, { op: 'command', channel: CHANNELS.helpdesk, text: '/duo lookup bob' });
    expect(r.status).toBe(200);
    const agent = await until(AGENT, (s) => textOf(s).includes('Bob Brown (bob)'));
    const card = agent.conversations.find((c) => c.id === CHANNELS.helpdesk)!.messages.at(-1)!;
    expect(card.ephemeral).toBe(true);
    const manager = await screenOf(MANAGER);
    expect(textOf(manager)).not.toContain('Bob Brown (bob)');
    expect(manager.conversations.find((c) => c.id === CHANNELS.helpdesk)).toBeDefined();
  });

  it("when the bot DMs the agent a verification code, then the DM is the agent's only, and the guest sees neither channel", async () => {
    await act(AGENT, { op: 'command', channel: CHANNELS.helpdesk, text: '/duo verify alice' });
    const agent = await until(AGENT, (s) => s.conversations.some((c) => c.kind === 'dm' && c.messages.length > 0));
    const dm = agent.conversations.find((c) => c.kind === 'dm')!;
    expect(JSON.stringify(dm.messages)).toContain('Confirmation code');
    for (const other of [MANAGER, 'U123', 'U567', 'U678']) {
      const s = await screenOf(other);
      expect(s.conversations.map((c) => c.id)).not.toContain(dm.id);
      expect(JSON.stringify(s)).not.toContain('Confirmation code');
    }
    // Channels by membership: the partner from another workspace is in #help-desk only; the agent is not an auditor.
    expect((await screenOf('U678')).conversations.map((c) => c.name)).toEqual(['help-desk', 'duo-desk']);
    expect(agent.conversations.map((c) => c.id)).not.toContain(CHANNELS.audit);
  });

  it("when the manager asks for a file on the agent's screen (a step-up QR code), then it is not theirs to fetch", async () => {
    await act(AGENT, { op: 'command', channel: CHANNELS.helpdesk, text: '/duo mfa' });
    const agent = await until(AGENT, (s) => s.files.some((f) => f.mimetype === 'image/png'));
    const qr = agent.files.find((f) => f.mimetype === 'image/png')!;
    const mine = await fetch(`${h.base}/workspace/api/files/${qr.id}?as=${AGENT}`);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/png');
    const theirs = await fetch(`${h.base}/workspace/api/files/${qr.id}?as=${MANAGER}`);
    expect(theirs.status).toBe(404);
  });

  it('when a person acts on a message that is not on their screen, then nothing is sent to the app', async () => {
    const agent = await screenOf(AGENT);
    const card = agent.conversations.find((c) => c.id === CHANNELS.helpdesk)!.messages.find((m) => m.blocks.length)!;
    const requests = h.local.slack.calls.length;
    const r = await act(MANAGER, {
      op: 'click',
      surface: { kind: 'message', channel: card.channel, ts: card.ts },
      element: { blockId: 'card_actions', actionId: 'card_unlock' },
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toContain('no longer on your screen');
    expect(h.local.slack.calls.length).toBe(requests);
  });
});

describe('who may use the page', () => {
  it('when a page on another site posts an act (cross-site request forgery), then it is refused and nothing reaches the app', async () => {
    const before = h.local.runtime.slack.port && h.local.slack.calls.length;
    const evil = await act(
      AGENT,
      { op: 'command', channel: CHANNELS.helpdesk, text: '/duo help' },
      { origin: 'https://evil.example' },
    );
    expect(evil.status).toBe(403);
    const form = await fetch(`${h.base}/workspace/api/act`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'as=U234',
    });
    expect(form.status).toBe(403);
    expect(h.local.slack.calls.length).toBe(before);
  });

  it('when a rebound DNS name asks for the page (Host is not loopback), then it is refused', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.base}/workspace/api/directory`, { headers: { host: 'attacker.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('when the page sends two requests, then each is signed when it is sent (fresh timestamp, its own signature)', async () => {
    const state = JSON.parse(readFileSync(localStatePath(h.dataDir), 'utf8')) as LocalState;
    const sent = [];
    for (let i = 0; i < 2; i++) {
      const r = await act(MANAGER, { op: 'command', channel: CHANNELS.helpdesk, text: '/duo help' });
      sent.push(((await r.json()) as { request: { headers: Record<string, string>; body: string } }).request);
    }
    for (const req of sent) {
      const ts = Number(req.headers['x-slack-request-timestamp']);
      expect(req.headers['x-slack-signature']).toBe(signSlackRequest(state.signingSecret, req.body, ts));
    }
    expect(sent[0]!.headers['x-slack-signature']).not.toBe(sent[1]!.headers['x-slack-signature']);
    expect(sent[0]!.body).not.toBe(sent[1]!.body); // a fresh trigger_id and response_url each time, as Slack sends
  });

  it('when a second local mode starts on the same data directory, then it is refused and points at the running one', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DUO_DESK_DATA_DIR: h.dataDir, LOG_LEVEL: 'error' });
    const second = startLocalMode(config, createMemoryLogger('error'));
    await expect(second).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
    await expect(second).rejects.toThrow(`already running in local mode`);
    await expect(second).rejects.toThrow(h.local.pageUrl);
  });
});

describe('duo-desk slack in a terminal', () => {
  it('when asked for --help, then it prints the usage; an unknown option is one clear line', async () => {
    const help = await cli(['slack', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--click "<button text>"');
    const bad = await cli(['slack', '--as', AGENT, '--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain("Unknown option '--frobnicate'");
  });

  it('when a flow is scripted with a command, --click and --submit, then each prints what changed on the screen', async () => {
    const lookup = await cli(['slack', '--as', MANAGER, '/duo lookup frank']);
    expect(lookup.stdout).toContain('== Frank Fischer (frank) ==');
    const click = await cli(['slack', '--as', MANAGER, '--click', 'Change status']);
    expect(click.stdout).toContain('--- form: Change status');
    const submit = await cli([
      'slack',
      '--as',
      MANAGER,
      '--submit',
      'New status=Disabled (cannot log in)',
      '--submit',
      'Reason=Left the company',
    ]);
    expect(submit.stdout).toContain('is now *Disabled*');
    const missing = await cli(['slack', '--as', MANAGER, '--click', 'Launch rockets']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no button "Launch rockets"');
  });
});
