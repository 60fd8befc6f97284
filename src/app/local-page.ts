import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CustomRoute } from '@slack/bolt';
import { z } from 'zod';
import type { Logger } from '../log.js';
import { actRequestSchema, answerRequestSchema, type LocalWorkspace, WorkspaceError } from './local-workspace.js';

/**
 * The local workspace page: a Slack-like page on the bot's own HTTP server, in local mode only (local.ts adds these
 * routes; production builds the server without them). Static HTML, CSS and JS from ./local-page/, a JSON API over
 * LocalWorkspace, and server-sent events for what changes on a person's screen and on the phone.
 *
 * It acts as anyone in the stand-in workspace, so it answers only what a browser on this machine asks from this
 * machine's address: loopback clients, a loopback Host (no DNS rebinding), and JSON posts from its own origin (a
 * page elsewhere cannot post JSON here without a CORS preflight, which is never answered).
 */
export interface LocalPage {
  routes: CustomRoute[];
  /** Ends the open event streams (the server cannot close while they are open). */
  close(): void;
}

export interface LocalPageOptions {
  /** The workspace once the app listens (requests before that get 503). */
  workspace: () => LocalWorkspace | undefined;
  /** For "copy as curl": where the requests go and the file holding the local signing secret. */
  wire: () => { eventsUrl: string; stateFile: string };
  logger: Logger;
}

const ASSETS = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/workspace/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/workspace/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
} as const;

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const isLoopbackAddress = (a: string | undefined) =>
  !!a && (a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.'));

const asSchema = z.string().max(30);
const duoUserSchema = z.string().max(100).optional();

export function createLocalPage(opts: LocalPageOptions): LocalPage {
  const assets = Object.fromEntries(
    Object.entries(ASSETS).map(([path, a]) => [
      path,
      { type: a.type, body: readFileSync(new URL(`./local-page/${a.file}`, import.meta.url)) },
    ]),
  );
  const streams = new Set<ServerResponse>();
  const log = opts.logger.child({ component: 'local-page' });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };

  /** The checks above; answers the refusal itself and returns undefined, else the workspace. */
  const admit = (req: IncomingMessage, res: ServerResponse): LocalWorkspace | undefined => {
    const host = req.headers.host ?? '';
    const hostname = host.replace(/:\d+$/, '');
    if (!isLoopbackAddress(req.socket.remoteAddress) || !LOOPBACK_HOSTS.has(hostname)) {
      json(res, 403, { error: 'the local workspace answers only on this machine: open http://127.0.0.1:<PORT>/' });
      return undefined;
    }
    if (req.method === 'POST') {
      const origin = req.headers.origin;
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if ((origin !== undefined && origin !== `http://${host}`) || type !== 'application/json') {
        json(res, 403, { error: 'only the local workspace page may post here' });
        return undefined;
      }
    }
    const ws = opts.workspace();
    if (!ws) json(res, 503, { error: 'duo-desk is still starting' });
    return ws;
  };

  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    let raw = '';
    for await (const chunk of req) {
      raw += chunk;
      if (raw.length > 256 * 1024) throw new WorkspaceError('request too large', 413);
    }
    try {
      return JSON.parse(raw);
    } catch {
      throw new WorkspaceError('the body must be JSON');
    }
  };

  /** Runs an API handler, answering WorkspaceError and bad input with their words and anything else as 500. */
  const api =
    (fn: (ws: LocalWorkspace, req: IncomingMessage, url: URL, res: ServerResponse) => Promise<unknown>) =>
    (req: IncomingMessage, res: ServerResponse) => {
      const ws = admit(req, res);
      if (!ws) return;
      const url = new URL(req.url ?? '/', 'http://local');
      fn(ws, req, url, res)
        .then((body) => {
          if (body !== undefined) json(res, 200, body);
        })
        .catch((e: unknown) => {
          if (e instanceof WorkspaceError) return json(res, e.status, { error: e.message });
          if (e instanceof z.ZodError)
            return json(res, 400, { error: `bad request: ${e.issues.map((i) => i.message).join('; ')}` });
          log.warn('local workspace request failed', { err: e });
          json(res, 500, { error: 'duo-desk did not answer (see its log)' });
        });
    };

  /** A server-sent event stream that sends `event` whenever `current()` changes. */
  const stream = (
    res: ServerResponse,
    event: string,
    current: () => unknown,
    subscribe: (push: () => void) => () => void,
  ) => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' });
    streams.add(res);
    let last = '';
    let pending: NodeJS.Timeout | undefined;
    const push = () => {
      if (pending) return;
      // Changes come in bursts (a card and its audit post): one event per burst.
      pending = setTimeout(() => {
        pending = undefined;
        let data: string;
        try {
          data = JSON.stringify(current());
        } catch (e) {
          log.warn('local workspace stream failed', { err: e });
          return;
        }
        if (data === last) return;
        last = data;
        res.write(`event: ${event}\ndata: ${data}\n\n`);
      }, 40);
    };
    const unsubscribe = subscribe(push);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    res.on('close', () => {
      unsubscribe();
      clearInterval(keepAlive);
      clearTimeout(pending);
      streams.delete(res);
    });
    push();
  };

  const routes: CustomRoute[] = [
    ...Object.entries(assets).map(([path, a]) => ({
      path,
      method: 'GET',
      handler: (req: IncomingMessage, res: ServerResponse) => {
        if (!admit(req, res)) return;
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': a.type });
        res.end(a.body);
      },
    })),
    {
      path: '/workspace/api/directory',
      method: 'GET',
      handler: api(async (ws) => ({
        people: ws.people(),
        wire: opts.wire(),
        simulator: ws.phone(undefined).simulator,
      })),
    },
    {
      path: '/workspace/api/stream',
      method: 'GET',
      handler: api(async (ws, _req, url, res) => {
        const as = asSchema.parse(url.searchParams.get('as') ?? '');
        ws.screen(as); // refuses an unknown person before the stream opens
        stream(
          res,
          'screen',
          () => ws.screen(as),
          (push) => ws.onChange(push),
        );
        return undefined;
      }),
    },
    {
      path: '/workspace/api/files/:id',
      method: 'GET',
      handler: api(async (ws, req, url, res) => {
        const id = z
          .string()
          .max(40)
          .parse((req as IncomingMessage & { params?: { id?: string } }).params?.id);
        const file = ws.file(asSchema.parse(url.searchParams.get('as') ?? ''), id);
        if (!file) throw new WorkspaceError('no such file on your screen', 404);
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.mimetype });
        res.end(file.bytes);
        return undefined;
      }),
    },
    {
      path: '/workspace/api/act',
      method: 'POST',
      handler: api(async (ws, req) => {
        const { as, act } = actRequestSchema.parse(await readJson(req));
        return ws.act(as, act);
      }),
    },
    {
      path: '/workspace/api/phone/stream',
      method: 'GET',
      handler: api(async (ws, _req, url, res) => {
        const user = duoUserSchema.parse(url.searchParams.get('user') ?? undefined);
        // The simulator tells nobody when a push arrives or times out: look twice a second.
        stream(
          res,
          'phone',
          () => ws.phone(user),
          (push) => {
            const timer = setInterval(push, 500);
            return () => clearInterval(timer);
          },
        );
        return undefined;
      }),
    },
    {
      path: '/workspace/api/phone/answer',
      method: 'POST',
      handler: api(async (ws, req) => {
        const { pushId, result } = answerRequestSchema.parse(await readJson(req));
        ws.answerPush(pushId, result);
        return { ok: true };
      }),
    },
  ];

  return {
    routes,
    close() {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
