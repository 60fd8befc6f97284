import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { LOCAL_CHANNELS } from './local-directory.js';
import { type LocalWorkspace, type PageScreen, WorkspaceError } from './local-workspace.js';
import { renderBlocks, renderModal } from './terminal-render.js';

/**
 * The loopback console `duo-desk slack` talks to: the same local workspace as the page, driven by what a person
 * reads (a command, a button's text, a menu's label, a form's labels), answered with what changed on that person's
 * screen as plain text. Bearer token from the data directory's local-mode.json.
 */
export const consoleRequestSchema = z.object({
  userId: z.string().regex(/^[UW][A-Z0-9]+$/),
  text: z.string().max(4000).optional(),
  /** Where the command is typed: a channel id or name (`help-desk`, `#help-desk`), or `dm`. */
  channel: z.string().max(80).optional(),
  click: z.array(z.string().max(200)).max(10).default([]),
  select: z
    .array(z.tuple([z.string().max(200), z.string().max(200)]))
    .max(20)
    .default([]),
  submit: z
    .array(z.tuple([z.string().max(200), z.string().max(3000)]))
    .max(50)
    .optional(),
  /** How long to let each step settle (the app answers after its ack). */
  waitMs: z.number().int().min(0).max(30_000).default(3000),
  /** Then wait for the next change on the person's screen (a DM that updates by itself), up to this long. */
  waitForUpdateMs: z.number().int().min(0).max(600_000).optional(),
});
export type ConsoleRequest = z.infer<typeof consoleRequestSchema>;

export interface ConsoleAnswer {
  /** What Slack got from the bot for each request sent. */
  statuses: number[];
  outputs: string[];
  /** Set when --wait-for-update saw no change in time. */
  noUpdate?: boolean;
}

export async function runConsoleRequest(ws: LocalWorkspace, input: ConsoleRequest): Promise<ConsoleAnswer> {
  const user = input.userId;
  const statuses: number[] = [];
  let before = ws.screen(user);
  const steps: Array<() => Promise<{ status: number }>> = [];
  if (input.text) {
    const channel = channelOf(before, input.channel);
    steps.push(() => ws.command(user, channel, input.text!));
  }
  for (const text of input.click) steps.push(() => ws.clickByText(user, text));
  for (const [label, option] of input.select) steps.push(() => ws.selectByLabel(user, label, option));
  if (input.submit) steps.push(() => ws.submitTop(user, input.submit!));
  for (const step of steps) {
    const settled = settle(ws, input.waitMs);
    const r = await step();
    if (r.status) statuses.push(r.status);
    await settled;
  }
  const outputs = changes(before, ws.screen(user));
  if (input.waitForUpdateMs === undefined) return { statuses, outputs };
  before = ws.screen(user);
  const changed = await nextChange(ws, () => changes(before, ws.screen(user)).length > 0, input.waitForUpdateMs);
  if (!changed) return { statuses, outputs, noUpdate: true };
  await settle(ws, input.waitMs);
  return { statuses, outputs: [...outputs, ...changes(before, ws.screen(user))] };
}

function channelOf(screen: PageScreen, wanted: string | undefined): string {
  if (!wanted) return LOCAL_CHANNELS.helpdesk;
  const name = wanted.replace(/^#/, '');
  const c = screen.conversations.find((x) =>
    name === 'dm' ? x.kind === 'dm' : x.id === name || (x.kind === 'channel' && x.name === name),
  );
  if (!c)
    throw new WorkspaceError(
      `${screen.userId} is not in ${wanted}; they are in ${screen.conversations.map((x) => (x.kind === 'dm' ? 'dm' : `#${x.name}`)).join(', ')}`,
    );
  return c.id;
}

/** Resolves once the workspace has been quiet for a moment after the step, or after `maxMs`. */
function settle(ws: LocalWorkspace, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout;
    const done = () => {
      off();
      clearTimeout(quiet);
      clearTimeout(cap);
      resolve();
    };
    const cap = setTimeout(done, maxMs);
    const off = ws.onChange(() => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 400);
    });
    quiet = setTimeout(done, Math.min(maxMs, 600));
  });
}

/** Waits until `seen()` (the person's screen shows something new, the audit channel aside) or the timeout. */
function nextChange(ws: LocalWorkspace, seen: () => boolean, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const off = ws.onChange(() => {
      if (!seen()) return;
      off();
      clearTimeout(timer);
      resolve(true);
    });
    const timer = setTimeout(() => {
      off();
      resolve(false);
    }, timeoutMs);
  });
}

/** What appeared, changed or went away on a person's screen, as the terminal prints it. */
export function changes(before: PageScreen, after: PageScreen): string[] {
  const out: string[] = [];
  const seen = new Map<string, string>();
  for (const c of before.conversations)
    for (const m of c.messages) seen.set(`${m.channel}/${m.ts}`, JSON.stringify([m.text, m.blocks]));
  for (const c of after.conversations) {
    // The audit channel's mirror would drown the answer; the page shows it.
    if (c.id === LOCAL_CHANNELS.audit) continue;
    const where = c.kind === 'dm' ? 'DM from duo-desk' : `#${c.name}`;
    for (const m of c.messages) {
      const key = `${m.channel}/${m.ts}`;
      const now = JSON.stringify([m.text, m.blocks]);
      const was = seen.get(key);
      seen.delete(key);
      if (was === now) continue;
      const note = [m.ephemeral ? 'only you can see this' : '', was !== undefined ? 'updated' : '']
        .filter(Boolean)
        .join(', ');
      out.push(`--- ${where}${note ? ` (${note})` : ''}\n${renderBlocks(m.blocks, m.text, after.names)}`);
    }
  }
  for (const key of seen.keys())
    if (!key.startsWith(`${LOCAL_CHANNELS.audit}/`)) out.push(`--- a message went away (${key})`);
  const top = (s: PageScreen) => s.modals.at(-1);
  const was = top(before);
  const now = top(after);
  if (now && JSON.stringify(now) !== JSON.stringify(was)) out.push(renderModal(now, after.names));
  else if (was && !now) out.push('--- form closed');
  return out;
}

export function startConsole(ws: LocalWorkspace, token: string, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const auth = Buffer.from(req.headers.authorization ?? '');
    const expected = Buffer.from(`Bearer ${token}`);
    if (
      req.method !== 'POST' ||
      req.url !== '/act' ||
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
      const reply = (status: number, body: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      try {
        reply(200, await runConsoleRequest(ws, consoleRequestSchema.parse(JSON.parse(raw))));
      } catch (e) {
        if (e instanceof WorkspaceError) reply(400, { error: e.message });
        else {
          logger.warn('local console request failed', { err: e });
          reply(400, { error: 'bad request: see the duo-desk log' });
        }
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
