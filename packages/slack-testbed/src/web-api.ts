/**
 * A local, faithful fake of Slack's side: the Web API (form-urlencoded or JSON), response URLs, file upload URLs
 * and Socket Mode. It records every request so tests can assert on what the bot really sent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appMethods } from './apps-methods.js';
import { chatMethods } from './chat-methods.js';
import { directoryMethods } from './directory-methods.js';
import { SlackApiError } from './errors.js';
import { fileMethods } from './files-methods.js';
import { BodyParseError, bearerToken, mediaType, parseApiArgs, readBody, sendJson, sendText, str } from './http.js';
import { slackId } from './ids.js';
import type { MethodSpec } from './method-context.js';
import { handleResponseUrl, parseResponseUrlBody, readUpload } from './side-channels.js';
import { SocketModeServer } from './socket-server.js';
import { SlackStore } from './store.js';
import type {
  Clock,
  FakeChannel,
  FakeUser,
  Fault,
  Json,
  RecordedCall,
  ResponseUrlContext,
  StoredFile,
  StoredMessage,
  StoredView,
  TestbedLogger,
} from './types.js';
import { viewMethods } from './views-methods.js';
import { canSeeFile, type Screen, screenOf } from './visibility.js';

const METHODS: Record<string, MethodSpec> = {
  ...appMethods,
  ...chatMethods,
  ...viewMethods,
  ...directoryMethods,
  ...fileMethods,
};

/** What the test-bed app is installed with unless a test says otherwise (the product's manifest asks for these). */
export const DEFAULT_BOT_SCOPES = [
  'commands',
  'chat:write',
  'im:write',
  'files:write',
  'files:read',
  'users:read',
  'users:read.email',
  'channels:history',
  'groups:history',
  'metadata.message:read',
];

export interface FakeSlackOptions {
  /** The bot token's scopes (x-oauth-scopes); DEFAULT_BOT_SCOPES when unset. Change later via store.ws.botScopes. */
  botScopes?: string[];
  port?: number;
  host?: string;
  teamId?: string;
  teamDomain?: string;
  enterpriseId?: string;
  appId?: string;
  botToken?: string;
  /** apps.connections.open accepts only this token when set; any `xapp-` token otherwise. */
  appToken?: string;
  botUserId?: string;
  users?: FakeUser[];
  channels?: FakeChannel[];
  logger?: TestbedLogger;
  /** Time source for trigger_id (3 s) and response_url (30 min) expiry and message timestamps. */
  clock?: Clock;
  /** Server ping interval on Socket Mode connections (the client reconnects after 30 s without one). */
  socketPingIntervalMs?: number;
  /** Real time Slack takes to process a completed upload (files.info shows no type and blocks refuse it until then). */
  fileProcessingMs?: number;
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown when the wait times out. */
  description?: string;
}

export interface MessageFilter {
  channel?: string;
  /** Ephemeral recipient, or the user at the other end of a DM. */
  userId?: string;
  ephemeral?: boolean;
  /** Include deleted messages (default false). */
  includeDeleted?: boolean;
}

export interface SocketModeHandle {
  connectionCount(): number;
  waitForConnection(timeoutMs?: number): Promise<void>;
  sendDisconnect(reason?: 'warning' | 'refresh_requested' | 'link_disabled'): void;
}

export interface FakeSlack {
  /** `http://127.0.0.1:PORT/api/`, for Bolt's `clientOptions.slackApiUrl`. */
  readonly apiUrl: string;
  /** `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly enterpriseId: string | undefined;
  readonly appId: string;
  readonly botToken: string;
  readonly botUserId: string;
  readonly botId: string;
  /** Legacy verification token Slack includes in payloads (`token`). */
  readonly verificationToken: string;
  /** Every request, in arrival order (Web API methods, plus `response_url` and `file_upload`). */
  readonly calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Messages with their current state (copies), oldest first; deleted ones are flagged, not removed. */
  messages(channel?: string): StoredMessage[];
  message(channel: string, ts: string): StoredMessage | undefined;
  lastMessage(filter?: MessageFilter): StoredMessage | undefined;
  /** Views (copies) in creation order, closed ones included (`open: false`). */
  views(userId?: string): StoredView[];
  view(viewId: string): StoredView | undefined;
  /** Top of the user's open modal stack. */
  lastView(userId: string): StoredView | undefined;
  homeView(userId: string): StoredView | undefined;
  /** Uploaded files with their bytes and `text` (UTF-8 view of the bytes); deleted ones are flagged, not removed. */
  files(): Array<StoredFile & { text: string }>;
  dmChannelFor(userId: string): string;
  /** What `userId` sees in their Slack client right now (visibility.ts). */
  screen(userId: string): Screen;
  /** Whether the file is on `userId`'s screen (shared with a message they see, or an image in one). */
  canSeeFile(userId: string, fileId: string): boolean;
  /** Calls `listener` after anything on someone's screen may have changed; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
  addUser(user: FakeUser): void;
  addChannel(channel: FakeChannel): void;
  /**
   * JSON dump of every request body received (parsed; the `token` credential field left out), response_url posts,
   * file bytes as text and Socket Mode acks.
   */
  everythingReceived(): string;
  failNext(method: string, fault: Fault, times?: number): void;
  clearFaults(): void;
  newResponseUrl(context: ResponseUrlContext): string;
  issueTriggerId(userId: string): string;
  waitFor<T>(predicate: () => T | undefined | null | false, opts?: WaitForOptions): Promise<T>;
  readonly socketMode: SocketModeHandle;
  /** The fake's memory. For the driver (it plays the Slack client, which keeps view state); tests should not need it. */
  readonly store: SlackStore;
  /** Internal: sends a Socket Mode envelope (used by the driver). */
  readonly socketServer: SocketModeServer;
  close(): Promise<void>;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const host = opts.host ?? '127.0.0.1';
  const clock: Clock = opts.clock ?? { now: () => new Date() };
  const log = opts.logger?.child({ component: 'fake-slack' });
  const store = new SlackStore({
    teamId: opts.teamId ?? 'T0DUODESK',
    teamDomain: opts.teamDomain ?? 'duo-desk',
    teamName: 'Duo Desk (local)',
    enterpriseId: opts.enterpriseId,
    appId: opts.appId ?? 'A0DUODESK',
    botId: 'B0DUODESK',
    botUserId: opts.botUserId ?? 'U0DUODESKBOT',
    botToken: opts.botToken ?? 'xoxb-local-duo-desk',
    appToken: opts.appToken,
    verificationToken: slackId('', 24).toLowerCase(),
    clock,
    fileProcessingMs: opts.fileProcessingMs ?? 30,
    botScopes: [...(opts.botScopes ?? DEFAULT_BOT_SCOPES)],
  });
  store.addUser({ id: store.ws.botUserId, name: 'duo-desk', realName: 'Duo Desk', isBot: true });
  for (const u of opts.users ?? []) store.addUser(u);
  for (const c of opts.channels ?? []) store.addChannel(c);

  const calls: RecordedCall[] = [];
  const received: Json[] = [];
  const faults = new Map<string, Fault[]>();
  let baseUrl = '';
  let hostPort = '';

  const socketServer = new SocketModeServer({
    appId: store.ws.appId,
    pingIntervalMs: opts.socketPingIntervalMs ?? 10_000,
    now: () => clock.now().getTime(),
    logger: log,
  });

  const record = (method: string, args: Json, token?: string): RecordedCall => {
    const call: RecordedCall = { method, args, at: Date.now(), token };
    calls.push(call);
    // The credential the app authenticates to Slack with is not content it sent; secret scans look at the rest.
    const { token: _credential, ...content } = args;
    received.push({ method, args: content });
    log?.debug('fake slack request', { method });
    return call;
  };

  /** Answers with an injected fault if one is queued; returns true when it did. */
  const applyFault = (method: string, call: RecordedCall, res: ServerResponse): boolean => {
    const queue = faults.get(method);
    const fault = queue?.shift();
    if (!fault) return false;
    call.fault = fault;
    if ('error' in fault) {
      call.outcome = { status: 200, error: fault.error };
      sendJson(res, 200, { ok: false, error: fault.error });
    } else if (fault.status === 429) {
      call.outcome = { status: 429, error: 'ratelimited' };
      sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter) });
    } else {
      call.outcome = { status: 500 };
      sendText(res, 500, 'Internal Server Error');
    }
    return true;
  };

  const tokenProblem = (spec: MethodSpec, token: string | undefined): string | undefined => {
    if (!token) return 'not_authed';
    const isApp = token.startsWith('xapp-');
    if (isApp) {
      if (store.ws.appToken !== undefined && token !== store.ws.appToken) return 'invalid_auth';
      return spec.token === 'bot' ? 'not_allowed_token_type' : undefined;
    }
    if (token !== store.ws.botToken) return 'invalid_auth';
    return spec.token === 'app' ? 'not_allowed_token_type' : undefined;
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, url: URL, method: string) => {
    const raw = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
    let parsed: { args: Json; json: boolean };
    try {
      parsed = parseApiArgs(req, raw, url);
    } catch (err) {
      if (!(err instanceof BodyParseError)) throw err;
      const call = record(method, { raw: raw.toString('utf8') }, bearerToken(req));
      call.outcome = { status: 200, error: err.message };
      return sendJson(res, 200, { ok: false, error: err.message });
    }
    // Slack ignores a `token` field in JSON bodies: JSON callers must use the Authorization header.
    const token = bearerToken(req) ?? (parsed.json ? undefined : str(parsed.args.token));
    const call = record(method, parsed.args, token);
    const spec = METHODS[method];
    if (!spec) {
      call.outcome = { status: 200, error: 'unknown_method' };
      return sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
    }
    if (req.method !== 'POST' && !spec.read) {
      call.outcome = { status: 405, error: 'method_not_allowed' };
      return sendJson(res, 405, { ok: false, error: 'method_not_allowed' });
    }
    if (applyFault(method, call, res)) return;
    const problem = tokenProblem(spec, token);
    if (problem) {
      call.outcome = { status: 200, error: problem };
      return sendJson(res, 200, { ok: false, error: problem });
    }
    // Slack names the token's scopes on every answer to it.
    if (token === store.ws.botToken) res.setHeader('x-oauth-scopes', store.ws.botScopes.join(','));
    const warnings =
      parsed.json && !/charset=utf-8/i.test(req.headers['content-type'] ?? '') ? ['missing_charset'] : undefined;
    const meta = warnings ? { warning: warnings.join(','), response_metadata: { warnings } } : {};
    try {
      const result = spec.handler({
        store,
        args: parsed.args,
        baseUrl,
        openSocketUrl: () => socketServer.issueUrl(hostPort),
      });
      call.outcome = { status: 200 };
      sendJson(res, 200, { ok: true, ...result, ...meta });
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      call.outcome = { status: 200, error: err.error };
      sendJson(res, 200, { ok: false, error: err.error, ...err.extra, ...meta });
    }
  };

  const handleResponse = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const raw = await readBody(req);
    let body: Json;
    try {
      body = parseResponseUrlBody(mediaType(req), raw);
    } catch (err) {
      const call = record('response_url', { raw: raw.toString('utf8') });
      call.outcome = { status: 400, error: 'invalid_payload' };
      if (!(err instanceof SlackApiError)) throw err;
      return sendJson(res, 400, { ok: false, error: err.error });
    }
    const call = record('response_url', { ...body, response_url_id: id });
    if (applyFault('response_url', call, res)) return;
    try {
      handleResponseUrl(store, id, body);
      call.outcome = { status: 200 };
      sendJson(res, 200, { ok: true });
    } catch (err) {
      if (!(err instanceof SlackApiError)) throw err;
      const status = ['invalid_url', 'expired_url', 'used_url', 'message_not_found'].includes(err.error) ? 404 : 400;
      call.outcome = { status, error: err.error };
      sendJson(res, status, { ok: false, error: err.error });
    }
  };

  const handleUpload = async (req: IncomingMessage, res: ServerResponse, token: string) => {
    const raw = await readBody(req, 1024 * 1024 * 1024);
    const fileId = store.uploadTokens.get(token);
    const file = fileId ? store.files.get(fileId) : undefined;
    const bytes = file ? await readUpload(req.headers['content-type'], raw) : raw;
    const call = record('file_upload', { file_id: fileId, filename: file?.filename, text: bytes.toString('utf8') });
    if (applyFault('file_upload', call, res)) return;
    if (!file || file.completed) {
      call.outcome = { status: 404, error: 'file_not_found' };
      return sendText(res, 404, 'Not Found');
    }
    file.bytes = bytes;
    store.uploadTokens.delete(token);
    call.outcome = { status: 200 };
    sendText(res, 200, `OK - ${bytes.length}`);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl || 'http://localhost');
    const route = async () => {
      const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
      if (api && (req.method === 'POST' || req.method === 'GET')) return handleApi(req, res, url, api[1]!);
      const response = /^\/response\/(.+)$/.exec(url.pathname);
      if (response && req.method === 'POST') return handleResponse(req, res, response[1]!);
      const upload = /^\/upload\/v1\/([A-Za-z0-9-]+)$/.exec(url.pathname);
      if (upload && req.method === 'POST') return handleUpload(req, res, upload[1]!);
      sendText(res, 404, 'Not Found');
    };
    route()
      .catch((err: unknown) => {
        log?.error('fake slack failed to answer', { err, path: url.pathname });
        if (!res.headersSent) sendText(res, 500, 'fake slack error');
        else res.end();
      })
      .finally(() => store.changed());
  });
  server.on('upgrade', (req, socket, head) => socketServer.handleUpgrade(req, socket, head));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  hostPort = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  baseUrl = `http://${hostPort}`;

  const clone = <T>(v: T): T => structuredClone(v);
  const matches = (m: StoredMessage, f: MessageFilter): boolean => {
    if (!f.includeDeleted && m.deleted) return false;
    if (f.channel && m.channel !== f.channel) return false;
    if (f.ephemeral !== undefined && f.ephemeral !== !!m.ephemeralUser) return false;
    if (f.userId && m.ephemeralUser !== f.userId && store.dmUserOf(m.channel) !== f.userId) return false;
    return true;
  };

  const fake: FakeSlack = {
    apiUrl: `${baseUrl}/api/`,
    baseUrl,
    teamId: store.ws.teamId,
    teamDomain: store.ws.teamDomain,
    enterpriseId: store.ws.enterpriseId,
    appId: store.ws.appId,
    botToken: store.ws.botToken,
    botUserId: store.ws.botUserId,
    botId: store.ws.botId,
    verificationToken: store.ws.verificationToken,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    messages: (channel) => store.messages.filter((m) => !channel || m.channel === channel).map(clone),
    message: (channel, ts) => {
      const m = store.messages.find((x) => x.channel === channel && x.ts === ts);
      return m && clone(m);
    },
    lastMessage: (filter = {}) => {
      const m = store.messages.findLast((x) => matches(x, filter));
      return m && clone(m);
    },
    views: (userId) => [...store.views.values()].filter((v) => !userId || v.userId === userId).map(clone),
    view: (id) => {
      const v = store.views.get(id);
      return v && clone(v);
    },
    lastView: (userId) => {
      const id = store.openStack(userId).at(-1);
      return id ? clone(store.views.get(id)!) : undefined;
    },
    homeView: (userId) => {
      const id = store.homeViews.get(userId);
      return id ? clone(store.views.get(id)!) : undefined;
    },
    files: () =>
      [...store.files.values()].map((f) => ({ ...clone(f), bytes: f.bytes, text: f.bytes?.toString('utf8') ?? '' })),
    dmChannelFor: (userId) => store.dmChannelFor(userId),
    screen: (userId) => screenOf(store, userId),
    canSeeFile: (userId, fileId) => canSeeFile(store, userId, fileId),
    onChange: (listener) => store.onChange(listener),
    addUser: (u) => store.addUser(u),
    addChannel: (c) => store.addChannel(c),
    everythingReceived: () => JSON.stringify({ requests: received, socketAcks: socketServer.acks }),
    failNext: (method, fault, times = 1) => {
      const queue = faults.get(method) ?? [];
      for (let i = 0; i < times; i++) queue.push(fault);
      faults.set(method, queue);
    },
    clearFaults: () => faults.clear(),
    newResponseUrl: (context) => `${baseUrl}/response/${store.newResponseUrlId(context)}`,
    issueTriggerId: (userId) => store.issueTriggerId(userId),
    waitFor: (predicate, o) => waitFor(predicate, o),
    socketMode: {
      connectionCount: () => socketServer.connectionCount(),
      waitForConnection: (ms) => socketServer.waitForConnection(ms),
      sendDisconnect: (reason) => socketServer.sendDisconnect(reason),
    },
    store,
    socketServer,
    close: async () => {
      await socketServer.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  log?.info('fake slack listening', { baseUrl });
  return fake;
}

/** Polls `predicate` until it returns a truthy value (the bot answers asynchronously after its ack). */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false,
  { timeoutMs = 5000, intervalMs = 10, description }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = predicate();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`waitFor timed out after ${timeoutMs} ms${description ? `: ${description}` : ''}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
