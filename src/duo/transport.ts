/**
 * Signed HTTP transport for the Duo Admin API: signing every attempt, timeouts, 429 backoff, read retries,
 * envelope parsing and error mapping. Logs method, path, status, duration and attempt at debug level only;
 * params, bodies, the skey and the Authorization header are never logged.
 */
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { redactString } from '../log.js';
import { DuoError, type DuoErrorCode } from './errors.js';
import { EnvelopeSchema, type OkEnvelope } from './schemas.js';
import { canonParams, type DuoParams, formatDuoDate, type SignatureVersion, signRequest } from './sign.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface TransportOptions {
  ikey: string;
  skey: string;
  host: string;
  sigVersion?: SignatureVersion;
  timeoutMs?: number;
  logger?: Logger;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  maxRateLimitRetries?: number;
  readRetries?: number;
  fetch?: typeof fetch;
  /** Told of every attempt (metrics; `duo-desk doctor` reads Duo's Date header): never params or bodies. */
  observe?: (attempt: DuoAttempt) => void;
}

/** One attempt as the observer sees it: the path template (ids as :id), never the concrete path. */
export interface DuoAttempt {
  method: HttpMethod;
  endpoint: string;
  /** HTTP status, or 'timeout' / 'network'. */
  status: number | 'timeout' | 'network';
  durationMs: number;
  /** Duo's Date response header, when there was a response. */
  serverDate?: string;
}

const STATIC_SEGMENTS = new Set([
  'admin',
  'v1',
  'v2',
  'users',
  'phones',
  'bypass_codes',
  'send_verification_push',
  'verification_push_response',
  'enroll',
  'admins',
  'info',
  'summary',
  'settings',
]);

/** `/admin/v1/users/DU…/phones` → `/admin/v1/users/:id/phones`: labels name endpoints, never users. */
export function endpointTemplate(path: string): string {
  return path
    .split('/')
    .map((s) => (s === '' || STATIC_SEGMENTS.has(s) ? s : ':id'))
    .join('/');
}

export interface RequestOptions {
  /** Map HTTP 500 + code 50001 to DUO_LIMIT_EXCEEDED (bypass-code creation: nothing was created). */
  limitOn50001?: boolean;
  /** Overrides the client's 429 retries for this call (0: answer DUO_RATE_LIMITED at once, the caller backs off). */
  maxRateLimitRetries?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);
function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Parses `api-xxx.duosecurity.com` or `http(s)://host:port` into an origin; plain http only to loopback. */
export function parseDuoHost(host: string): URL {
  const raw = host.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    throw new AppError(
      'CONFIG_INVALID',
      `Duo host is not a valid hostname or URL: ${JSON.stringify(raw.slice(0, 100))}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('CONFIG_INVALID', `Duo host must use https (got ${url.protocol})`);
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new AppError('CONFIG_INVALID', 'Duo host may use plain http only on a loopback address; use https');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username || url.password) {
    throw new AppError('CONFIG_INVALID', 'Duo host must be a bare hostname or origin (no path, query or credentials)');
  }
  return url;
}

/** A short, tag-free, secret-free excerpt of an unexpected body for error messages. */
export function sanitizeSnippet(body: string, max = 200): string {
  const text = body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const clipped = text.length > max ? `${text.slice(0, max)}…` : text;
  return redactString(clipped);
}

type Attempt =
  | { kind: 'response'; status: number; contentType: string; body: string; serverDate?: string | undefined }
  | { kind: 'timeout' }
  | { kind: 'network'; error: unknown };

export class DuoTransport {
  private readonly origin: URL;
  private readonly ikey: string;
  private readonly skey: string;
  private readonly sigVersion: SignatureVersion;
  private readonly timeoutMs: number;
  private readonly logger: Logger | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxRateLimitRetries: number;
  private readonly readRetries: number;
  private readonly fetchFn: typeof fetch;
  private readonly observe: ((attempt: DuoAttempt) => void) | undefined;

  constructor(opts: TransportOptions) {
    if (!opts.ikey || !opts.skey) throw new AppError('CONFIG_INVALID', 'Duo ikey and skey are required');
    if (opts.sigVersion !== undefined && opts.sigVersion !== 2 && opts.sigVersion !== 5) {
      throw new AppError('CONFIG_INVALID', 'Duo signature version must be 2 or 5');
    }
    this.origin = parseDuoHost(opts.host);
    this.ikey = opts.ikey;
    this.skey = opts.skey;
    this.sigVersion = opts.sigVersion ?? 5;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.logger = opts.logger;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
    this.maxRateLimitRetries = opts.maxRateLimitRetries ?? 6;
    this.readRetries = opts.readRetries ?? 2;
    this.fetchFn = opts.fetch ?? globalThis.fetch;
    this.observe = opts.observe;
  }

  /** Sends a signed request and returns the OK envelope, or throws DuoError. */
  async request(
    method: HttpMethod,
    path: string,
    params: DuoParams = {},
    ro: RequestOptions = {},
  ): Promise<OkEnvelope> {
    const isWrite = method !== 'GET';
    let rateLimited = 0;
    let readFailures = 0;
    const maxRateLimitRetries = ro.maxRateLimitRetries ?? this.maxRateLimitRetries;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const res = await this.attempt(method, path, params);
      const durationMs = Math.round(performance.now() - started);
      this.logger?.debug('duo request', {
        method,
        path,
        status: res.kind === 'response' ? res.status : res.kind,
        durationMs,
        attempt,
      });
      this.observe?.({
        method,
        endpoint: endpointTemplate(path),
        status: res.kind === 'response' ? res.status : res.kind,
        durationMs,
        ...(res.kind === 'response' && res.serverDate ? { serverDate: res.serverDate } : {}),
      });

      if (res.kind === 'response' && res.status === 429) {
        if (rateLimited < maxRateLimitRetries) {
          const waitMs = 1000 * 2 ** rateLimited + Math.floor(this.random() * 1000);
          rateLimited++;
          await this.sleep(waitMs);
          continue;
        }
        throw this.error('DUO_RATE_LIMITED', method, path, `rate limited after ${rateLimited} retries`, {
          httpStatus: 429,
          ...this.failFields(res.body),
        });
      }

      // Idempotent reads are retried on network errors, timeouts and 5xx; writes never (outcome unknown).
      const transient = res.kind !== 'response' || res.status >= 500;
      if (transient && !isWrite && readFailures < this.readRetries) {
        readFailures++;
        await this.sleep(250 * readFailures);
        continue;
      }

      if (res.kind === 'timeout') {
        throw this.error('DUO_TIMEOUT', method, path, `no response within ${this.timeoutMs} ms`, {
          outcomeUnknown: isWrite,
        });
      }
      if (res.kind === 'network') {
        const reason = res.error instanceof Error ? res.error.message : String(res.error);
        throw this.error('DUO_UNAVAILABLE', method, path, `network error: ${redactString(reason)}`, {
          outcomeUnknown: isWrite,
          cause: res.error,
        });
      }
      return this.interpret(method, path, res, ro);
    }
  }

  private async attempt(method: HttpMethod, path: string, params: DuoParams): Promise<Attempt> {
    const date = formatDuoDate(new Date());
    const host = this.origin.host.toLowerCase();
    const headers: Record<string, string> = { 'X-Duo-Date': date, 'User-Agent': 'duo-desk' };
    let query = '';
    let body: string | undefined;
    let signedParams: DuoParams = params;
    if (method === 'POST') {
      if (this.sigVersion === 5) {
        body = JSON.stringify(jsonBody(params));
        headers['Content-Type'] = 'application/json';
        signedParams = {};
      } else {
        body = canonParams(params);
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
      }
    } else {
      query = canonParams(params);
    }
    const signed = signRequest({
      ikey: this.ikey,
      skey: this.skey,
      version: this.sigVersion,
      date,
      method,
      host,
      path,
      params: signedParams,
      body: body ?? '',
      headers: { 'x-duo-date': date },
    });
    headers.Authorization = signed.authorization;
    const url = `${this.origin.origin}${path}${query ? `?${query}` : ''}`;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await this.fetchFn(url, { method, headers, body, signal, redirect: 'manual' });
      const text = await res.text();
      return {
        kind: 'response',
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        body: text,
        serverDate: res.headers.get('date') ?? undefined,
      };
    } catch (error) {
      if (signal.aborted || (error instanceof Error && error.name === 'TimeoutError')) return { kind: 'timeout' };
      return { kind: 'network', error };
    }
  }

  private failFields(body: string): { duoCode?: number; duoMessage?: string } {
    try {
      const parsed = EnvelopeSchema.safeParse(JSON.parse(body));
      if (parsed.success && parsed.data.stat === 'FAIL') {
        const { code, message, message_detail: detail } = parsed.data;
        const out: { duoCode?: number; duoMessage?: string } = {};
        if (typeof code === 'number' && !Number.isNaN(code)) out.duoCode = code;
        const text = [message, detail ? `(${detail})` : ''].filter(Boolean).join(' ');
        if (text) out.duoMessage = sanitizeSnippet(text);
        return out;
      }
    } catch {
      // not JSON: handled by the caller
    }
    return {};
  }

  private interpret(
    method: HttpMethod,
    path: string,
    res: { status: number; contentType: string; body: string },
    ro: RequestOptions,
  ): OkEnvelope {
    const isWrite = method !== 'GET';
    let json: unknown;
    try {
      json = JSON.parse(res.body);
    } catch {
      const kind = /html/i.test(res.contentType) || /^\s*</.test(res.body) ? 'an HTML page' : 'a non-JSON body';
      const snippet = sanitizeSnippet(res.body);
      const msg = `returned ${kind} (HTTP ${res.status}${res.contentType ? `, ${res.contentType.split(';')[0]}` : ''})${snippet ? `: "${snippet}"` : ''}`;
      const code: DuoErrorCode = res.status >= 500 ? 'DUO_UNAVAILABLE' : 'DUO_BAD_RESPONSE';
      throw this.error(code, method, path, msg, {
        httpStatus: res.status,
        outcomeUnknown: isWrite && (res.status >= 500 || res.status < 300),
      });
    }
    const env = EnvelopeSchema.safeParse(json);
    if (!env.success) {
      throw this.error(
        'DUO_BAD_RESPONSE',
        method,
        path,
        `returned JSON that is not a Duo envelope (HTTP ${res.status})`,
        {
          httpStatus: res.status,
          outcomeUnknown: isWrite && (res.status >= 500 || res.status < 300),
        },
      );
    }
    if (env.data.stat === 'OK' && res.status >= 200 && res.status < 300) return env.data;

    const { duoCode, duoMessage } = this.failFields(res.body);
    const status = res.status;
    let code: DuoErrorCode;
    let outcomeUnknown = false;
    if (status === 401 || duoCode === 40103) code = 'DUO_INVALID_SIGNATURE';
    else if (status === 403 || duoCode === 40301) code = 'DUO_FORBIDDEN';
    else if (status === 404) code = 'DUO_NOT_FOUND';
    else if (status === 429) code = 'DUO_RATE_LIMITED';
    else if (status === 500 && duoCode === 50001 && ro.limitOn50001) code = 'DUO_LIMIT_EXCEEDED';
    else if (status >= 500) {
      code = 'DUO_UNAVAILABLE';
      outcomeUnknown = isWrite;
    } else code = 'DUO_REQUEST_REJECTED';
    const what = [`HTTP ${status}`, duoCode !== undefined ? `code ${duoCode}` : '', duoMessage ?? '']
      .filter(Boolean)
      .join(' ');
    throw this.error(code, method, path, what, { httpStatus: status, duoCode, duoMessage, outcomeUnknown });
  }

  private error(
    code: DuoErrorCode,
    method: HttpMethod,
    path: string,
    what: string,
    opts: { httpStatus?: number; duoCode?: number; duoMessage?: string; outcomeUnknown?: boolean; cause?: unknown },
  ): DuoError {
    return new DuoError(code, `Duo ${method} ${path}: ${what}`, { ...opts, details: { method, path } });
  }
}

/** v5 JSON bodies: values as strings (arrays kept as string arrays), keys sorted for deterministic bytes. */
function jsonBody(params: DuoParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of Object.keys(params).sort()) {
    const v = params[key]!;
    out[key] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}
