/**
 * Duo Admin API simulator: same wire protocol as Duo (signed requests, Duo envelopes, paging metadata).
 *
 * /admin/* requests need a valid v2 (HMAC-SHA1/SHA-512, query or form params) or v5 (JSON body + x-duo-*
 * header hash) signature for the configured ikey/skey, dated (X-Duo-Date or Date) within ±300 s of real
 * time; otherwise 401 {stat:'FAIL', code:40103}.
 *
 * Control API (JSON, unsigned, loopback clients only; same operations as the typed DuoSimulator object):
 *   GET    /__sim/pushes                        pending (waiting) verification pushes
 *   POST   /__sim/pushes/:pushId/answer         {result: 'approve'|'deny'|'fraud'}
 *   PUT    /__sim/auto-answer/:username         {result, afterMs}   answer that user's pushes automatically
 *   DELETE /__sim/auto-answer/:username         remove the auto-answer policy
 *   POST   /__sim/users                         {username, ...SimUser fields} → created user
 *   GET    /__sim/users/:username               user (username or alias)
 *   POST   /__sim/users/:username/failed-auth   {times}  count failed authentications (locks out at threshold)
 *   GET    /__sim/users/:username/bypass-codes  live bypass codes including plaintext (tests only)
 *   POST   /__sim/faults                        {kind, method?, path? (prefix), pathRegex?, times?, latencyMs?} → {id}
 *   DELETE /__sim/faults                        clear all faults
 *   GET    /__sim/outbox                        enrollment emails sent
 *   GET    /__sim/sms                           SMS sent (activation instructions, passcode batches)
 *   POST   /__sim/phones/:phoneId/activate      the user opens the newest activation link in Duo Mobile
 *   GET    /__sim/requests                      log of /admin requests {method, path, params, status, at}
 *   PUT    /__sim/grants                        {missing: ['read_resource'|'read_information'|'settings'|…]}
 *                                               the Admin API application lacks these permissions (403, 40301)
 *   PUT    /__sim/clock                         {skewMs}  Duo's clock runs skewMs off real time (Date header, signatures)
 *   POST   /__sim/reset                         back to the initial directory; clears pushes, faults, outbox, log
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin, type Params } from './admin-routes.js';
import { handleControl } from './control-routes.js';
import { demoDirectory } from './demo-directory.js';
import { completeActivation } from './devices.js';
import { randomSecret } from './ids.js';
import { SimState } from './state.js';
import type {
  Clock,
  DuoSimulator,
  DuoSimulatorOptions,
  FaultSpec,
  SimGrant,
  SimLogger,
  SimRequestRecord,
  SimUser,
} from './types.js';
import { pairsToParams, verifySignature } from './verify.js';

const MAX_BODY = 1_000_000;
const INVALID_SIGNATURE = { stat: 'FAIL', code: 40103, message: 'Invalid signature in request credentials' };
const HTML_ERROR_PAGE =
  '<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n' +
  '<hr><center>Duo/1.0</center>\r\n</body>\r\n</html>\r\n';

interface ActiveFault extends FaultSpec {
  id: string;
  remaining: number;
}

function isLoopbackAddress(addr: string | undefined): boolean {
  if (!addr) return false;
  return addr === '::1' || addr.startsWith('127.') || addr.startsWith('::ffff:127.');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The Admin API permission an endpoint needs (duo-admin-api.md, the permissions table). */
function grantFor(method: string, path: string): SimGrant | undefined {
  if (path.startsWith('/admin/v1/info/')) return 'read_information';
  if (path === '/admin/v1/settings') return 'settings';
  if (path.startsWith('/admin/v1/admins')) return 'administrators';
  if (path.startsWith('/admin/v1/users') || path.startsWith('/admin/v1/bypass_codes'))
    return method === 'GET' ? 'read_resource' : 'write_resource';
  return undefined;
}

function seedFor(directory: DuoSimulatorOptions['directory']): () => SimUser[] {
  if (directory === 'empty') return () => [];
  if (Array.isArray(directory)) return () => directory;
  return demoDirectory;
}

export async function startDuoSimulator(opts: DuoSimulatorOptions = {}): Promise<DuoSimulator> {
  const clock: Clock = opts.clock ?? { now: () => new Date() };
  const ikey = opts.ikey ?? 'DISIMULATOR000000000';
  const skey = opts.skey ?? randomSecret(40);
  const logger: SimLogger | undefined = opts.logger;
  const state = new SimState(
    { clock, pushTimeoutMs: opts.pushTimeoutMs ?? 120_000, lockoutThreshold: opts.lockoutThreshold ?? 10 },
    seedFor(opts.directory),
  );
  let faults: ActiveFault[] = [];
  let faultSeq = 0;
  /** How far Duo's clock is off real time: its Date header and the signature's freshness window follow it. */
  let clockSkewMs = 0;
  /** Permissions the Admin API application was not given ("Grant read resource", …): their endpoints answer 403. */
  let missingGrants = new Set<SimGrant>();
  let log: SimRequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const takeFault = (method: string, path: string): ActiveFault | undefined => {
    const f = faults.find(
      (x) =>
        x.remaining > 0 &&
        (!x.method || x.method.toUpperCase() === method) &&
        (x.path === undefined || (typeof x.path === 'string' ? path.startsWith(x.path) : x.path.test(path))),
    );
    if (f) f.remaining--;
    return f;
  };

  const record = (method: string, path: string, params: Params, status: number) => {
    const { skey: _s, ...safe } = params;
    log.push({ method, path, params: safe, status, at: clock.now() });
    logger?.debug('duo-sim request', { method, path, status });
  };

  async function handleAdminRequest(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    rawPath: string,
  ) {
    const body = await readBody(req);
    const queryPairs = [...url.searchParams.entries()];
    const fault = takeFault(method, rawPath);
    const looseParams = pairsToParams(queryPairs);
    if (fault) {
      switch (fault.kind) {
        case 'latency':
          await delay(fault.latencyMs ?? 1000);
          break;
        case 'rate_limit':
          record(method, rawPath, looseParams, 429);
          return sendJson(res, 429, { stat: 'FAIL', code: 42901, message: 'Too Many Requests' });
        case 'server_error':
          record(method, rawPath, looseParams, 500);
          return sendJson(res, 500, { stat: 'FAIL', code: 50000, message: 'Internal server error' });
        case 'html':
          record(method, rawPath, looseParams, 400);
          res.writeHead(400, { 'Content-Type': 'text/html' });
          return res.end(HTML_ERROR_PAGE);
        case 'malformed_json':
          record(method, rawPath, looseParams, 200);
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return res.end('{"stat": "OK", "response": [{"user_id": "DU');
        case 'drop':
          record(method, rawPath, looseParams, 0);
          req.socket.destroy();
          return;
      }
    }
    res.setHeader('Date', new Date(Date.now() + clockSkewMs).toUTCString());
    const verified = verifySignature(
      { method, path: rawPath, headers: req.headers, queryPairs, body },
      { ikey, skey, nowMs: Date.now() + clockSkewMs },
    );
    if (!verified.ok) {
      logger?.debug('duo-sim rejected signature', { method, path: rawPath, reason: verified.reason });
      record(method, rawPath, looseParams, 401);
      return sendJson(res, 401, INVALID_SIGNATURE);
    }
    const grant = grantFor(method, rawPath);
    if (grant && missingGrants.has(grant)) {
      record(method, rawPath, verified.params, 403);
      return sendJson(res, 403, { stat: 'FAIL', code: 40301, message: 'Access forbidden' });
    }
    const result = handleAdmin(state, method, rawPath, verified.params);
    record(method, rawPath, verified.params, result.status);
    if (!res.destroyed) sendJson(res, result.status, result.body);
  }

  async function handleControlRequest(req: IncomingMessage, res: ServerResponse, method: string, rawPath: string) {
    if (!isLoopbackAddress(req.socket.remoteAddress)) return sendJson(res, 403, { error: 'loopback only' });
    const body = await readBody(req);
    let parsed: unknown;
    try {
      parsed = body.length ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      return sendJson(res, 400, { error: 'malformed JSON' });
    }
    const r = handleControl(sim, method, rawPath, parsed);
    sendJson(res, r.status, r.body);
  }

  const server = createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const rawPath = rawUrl.split('?')[0]!;
    const url = new URL(rawUrl, 'http://sim.invalid');
    const work = rawPath.startsWith('/__sim')
      ? handleControlRequest(req, res, method, rawPath)
      : rawPath.startsWith('/admin/')
        ? handleAdminRequest(req, res, method, url, rawPath)
        : Promise.resolve(sendJson(res, 404, { stat: 'FAIL', code: 40401, message: 'Resource not found' }));
    work.catch((e: unknown) => {
      logger?.error('duo-sim internal error', { error: e });
      if (!res.headersSent && !res.destroyed)
        sendJson(res, 500, { stat: 'FAIL', code: 50001, message: 'Unknown internal server error' });
    });
  });

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const sim: DuoSimulator = {
    url,
    ikey,
    skey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    answerPush: (pushId, result) => state.answerPush(pushId, result),
    setAutoAnswer: (username, policy) => state.setAutoAnswer(username, policy),
    pendingPushes: () => state.pendingPushes().map((p) => ({ ...p })),
    failAuthentication: (username, times = 1) => structuredClone(state.failAuthentication(username, times)),
    injectFault: (fault) => {
      const id = `fault-${++faultSeq}`;
      faults.push({ ...fault, id, remaining: fault.times ?? Number.POSITIVE_INFINITY });
      return id;
    },
    setClockSkew: (ms) => {
      clockSkewMs = ms;
    },
    setMissingGrants: (grants) => {
      missingGrants = new Set(grants);
    },
    clearFaults: () => {
      faults = [];
    },
    enrollmentOutbox: () => state.outbox.map((e) => ({ ...e })),
    requests: () => log.map((r) => ({ ...r })),
    bypassCodesOf: (userId) => state.bypassCodesOf(userId).map((c) => ({ ...c })),
    issuedBypassCodes: () => state.issuedCodes.map((c) => ({ ...c })),
    getUser: (username) => {
      const u = state.findByUsername(username);
      return u ? structuredClone(u) : undefined;
    },
    addUser: (user) => structuredClone(state.addUser(user)),
    settings: () => ({ ...state.settings }),
    setSettings: (changes) => state.updateSettings(changes),
    directories: () => [...state.directories.values()].map((d) => structuredClone(d)),
    setDirectoryUser: (key, username, person) => state.setDirectoryUser(key, username, person),
    reset: () => {
      state.reset();
      faults = [];
      log = [];
      clockSkewMs = 0;
      missingGrants = new Set();
    },
    smsOutbox: () => state.sms.map((m) => ({ ...m })),
    issuedActivations: () => state.activations.map((a) => ({ ...a })),
    smsPasscodesOf: (phoneId) => [...(state.smsPasscodes.get(phoneId) ?? [])],
    completeActivation: (phoneId) => completeActivation(state, phoneId),
  };
  return sim;
}
