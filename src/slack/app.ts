import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { App, type CustomRoute, HTTPReceiver, LogLevel, SocketModeReceiver, type webApi } from '@slack/bolt';
import type { Logger } from '../log.js';
import type { Deps } from '../usecases/deps.js';
import { boltLogger } from './bolt-logger.js';
import { Notifier } from './notifier.js';
import { httpRequestKeys, replayGuardMiddleware } from './replay-guard.js';
import { requestContextMiddleware } from './request-context.js';

/** What /readyz answers: 200 or 503 with `{"db":"ok"|"failed","duo":"ok"|"failed"}`, never error text. */
export interface Readiness {
  ok: boolean;
  body: { db: 'ok' | 'failed'; duo: 'ok' | 'failed' };
}

export interface SlackAppOptions {
  mode: 'http' | 'socket';
  signingSecret: string | undefined;
  botToken: string;
  appToken: string | undefined;
  apiUrl: string | undefined;
  port: number;
  host: string | undefined;
  logger: Logger;
  deps: Deps;
  readiness: () => Promise<Readiness>;
  /** Registers the listeners (the composition root passes commands/index.ts): runs after the request middleware. */
  listeners: (app: App, notifier: Notifier) => void;
  /** Retries for user-facing Web API calls (0 in tests). */
  webApiRetries?: number;
  /** More routes on the same HTTP server: local mode's workspace page. Production adds none. */
  routes?: CustomRoute[];
}

export interface SlackApp {
  app: App;
  client: webApi.WebClient;
  notifier: Notifier;
  teamId: string;
  botUserId: string;
  /** The port HTTP (and /healthz) listens on. */
  port: number;
  /** Listeners still running (acked requests whose work goes on after the HTTP answer). */
  inFlight(): number;
  /**
   * Stops taking requests (the HTTP server closes; answers already started finish), then waits up to
   * `drainMs` for the listeners still running; returns how many were still running then.
   */
  stop(drainMs?: number): Promise<number>;
}

/**
 * The Bolt app over HTTP (POST /slack/events with Bolt's signature check, GET /healthz and /readyz)
 * or Socket Mode (the same listeners; health routes on PORT). The installation's team comes from
 * auth.test at start; requests from users of other teams are refused by the request middleware.
 */
export async function startSlackApp(opts: SlackAppOptions): Promise<SlackApp> {
  const logger = boltLogger(opts.logger.child({ component: 'slack' }));
  const clientOptions = {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: { retries: opts.webApiRetries ?? 2, factor: 2, minTimeout: 500, maxTimeout: 4000 },
  };
  const customRoutes = [...healthRoutes(opts.readiness), ...(opts.routes ?? [])];
  const receiver =
    opts.mode === 'socket'
      ? new SocketModeReceiver({
          appToken: opts.appToken!,
          logger,
          customRoutes,
          // The socket client opens its connection (apps.connections.open) at the same API URL.
          installerOptions: { port: opts.port, clientOptions },
        })
      : new HTTPReceiver({
          signingSecret: opts.signingSecret!,
          endpoints: '/slack/events',
          customRoutes,
          logger,
          unhandledRequestTimeoutMillis: 3001,
          // The signature, for the replay guard (Bolt has verified it by then).
          customPropertiesExtractor: httpRequestKeys,
        });
  const app = new App({
    receiver,
    token: opts.botToken,
    logger,
    logLevel: LogLevel.INFO,
    clientOptions,
    deferInitialization: true,
    ignoreSelf: true,
    // No listener uses Bolt's conversation store: without it no request pays for its lookup.
    convoStore: false,
  });
  await app.init();
  const auth = await app.client.auth.test();
  const teamId = String(auth.team_id);
  const botUserId = String(auth.user_id);
  const notifier = new Notifier(app.client);

  // Every request's listeners, tracked until they return: a listener goes on after its ack has answered
  // Slack, so a shutdown waits for these rather than for the HTTP connections alone.
  const running = new Set<Promise<unknown>>();
  let draining = false;
  app.use(async ({ next, logger: l }) => {
    if (draining) {
      l.warn('request arrived while shutting down; it is not handled');
      return;
    }
    const work = next();
    running.add(work);
    try {
      await work;
    } finally {
      running.delete(work);
    }
  });
  app.use(replayGuardMiddleware(opts.deps, () => teamId));
  app.use(requestContextMiddleware(opts.deps, () => teamId));
  opts.listeners(app, notifier);
  app.error(async (err) => {
    opts.logger.error('unhandled Slack listener error', { err });
  });

  let port = opts.port;
  if (opts.mode === 'http') {
    const server = (await app.start({ port: opts.port, ...(opts.host ? { host: opts.host } : {}) })) as Server;
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : opts.port;
  } else {
    await app.start();
  }
  return {
    app,
    client: app.client,
    notifier,
    teamId,
    botUserId,
    port,
    inFlight: () => running.size,
    async stop(drainMs = 8000) {
      const deadline = Date.now() + drainMs;
      const closed = (app.stop() as Promise<unknown>).catch((e) =>
        opts.logger.warn('slack receiver stop failed', { err: e }),
      );
      // New connections are refused from here; requests already inside finish (and ack) on their own.
      draining = true;
      await Promise.race([closed, sleep(Math.max(0, deadline - Date.now()))]);
      while (running.size && Date.now() < deadline)
        await Promise.race([Promise.allSettled([...running]), sleep(Math.max(0, deadline - Date.now()))]);
      if (running.size) opts.logger.warn('listeners still running at shutdown', { count: running.size });
      return running.size;
    },
  };
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

function healthRoutes(readiness: () => Promise<Readiness>) {
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  return [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => json(res, 200, { ok: true }),
    },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        readiness()
          .then((r) => json(res, r.ok ? 200 : 503, r.body))
          .catch(() => json(res, 503, { db: 'failed', duo: 'failed' }));
      },
    },
  ];
}
