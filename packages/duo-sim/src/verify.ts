/**
 * Server-side signature check: accepts v2 (HMAC-SHA1 or SHA-512; params in query or form body) and v5
 * (query canon + SHA-512 of the raw body + SHA-512 of the x-duo-* headers). The date comes from X-Duo-Date,
 * else Date, and must be within ±maxSkewSec of real time.
 *
 * The canonical text is rebuilt here, not borrowed from the app's signer, so that a mistake in the app's
 * signing fails against the simulator instead of being agreed with. Duo's official client and the documented
 * vectors (this package's test/official-client.test.ts and test/verify.test.ts) are what check this copy.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SignedRequest {
  method: string;
  /** Raw request path as sent (percent-encoding kept), no query string. */
  path: string;
  headers: IncomingHttpHeaders;
  queryPairs: Array<[string, string]>;
  body: Buffer;
}

export interface VerifyOptions {
  ikey: string;
  skey: string;
  maxSkewSec?: number;
  nowMs?: number;
}

export type VerifyResult =
  | { ok: true; version: 2 | 5; params: Record<string, string | string[]> }
  | { ok: false; reason: string };

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function hexEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function toPairs(obj: Record<string, unknown>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v)) for (const item of v) out.push([k, String(item)]);
    else if (v !== null && v !== undefined) out.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

export function pairsToParams(pairs: Array<[string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of pairs) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** RFC 3986 percent-encoding (encodeURIComponent leaves !'()* alone; Duo encodes them). */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sha512Hex = (data: string | Buffer) => createHash('sha512').update(data).digest('hex');
const hmacHex = (skey: string, text: string, digest: 'sha1' | 'sha512') =>
  createHmac(digest, skey).update(text, 'utf8').digest('hex');

/** Encoded pairs sorted by key, then by value (repeated keys keep every value). */
function canonicalParams(pairs: Array<[string, string]>): string {
  return pairs
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort((a, b) => byCodeUnit(a[0], b[0]) || byCodeUnit(a[1], b[1]))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** SHA-512 of the x-duo-* headers as name,value,… joined by NUL, names sorted (Node has lower-cased them). */
function duoHeadersHash(headers: IncomingHttpHeaders): string {
  const named = Object.keys(headers)
    .filter((name) => name.startsWith('x-duo-'))
    .sort(byCodeUnit)
    .flatMap((name) => [name, header(headers, name) ?? '']);
  return sha512Hex(named.join('\0'));
}

export function verifySignature(req: SignedRequest, opts: VerifyOptions): VerifyResult {
  const auth = header(req.headers, 'authorization');
  const m = auth?.match(/^Basic\s+([A-Za-z0-9+/=]+)$/);
  if (!m) return { ok: false, reason: 'missing Basic authorization' };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { ok: false, reason: 'malformed authorization' };
  const ikey = decoded.slice(0, colon);
  const sig = decoded.slice(colon + 1).toLowerCase();
  if (ikey !== opts.ikey) return { ok: false, reason: 'unknown ikey' };

  const xDuoDate = header(req.headers, 'x-duo-date');
  const date = xDuoDate ?? header(req.headers, 'date');
  if (!date) return { ok: false, reason: 'missing date' };
  const t = Date.parse(date);
  const skew = opts.maxSkewSec ?? 300;
  if (Number.isNaN(t) || Math.abs((opts.nowMs ?? Date.now()) - t) > skew * 1000) {
    return { ok: false, reason: 'date outside the allowed window' };
  }
  const host = (header(req.headers, 'host') ?? '').toLowerCase();
  const contentType = (header(req.headers, 'content-type') ?? '').toLowerCase();
  const bodyText = req.body.toString('utf8');

  let bodyPairs: Array<[string, string]> = [];
  if (bodyText.length > 0) {
    if (contentType.includes('application/json')) {
      try {
        const parsed: unknown = JSON.parse(bodyText);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          bodyPairs = toPairs(parsed as Record<string, unknown>);
        else return { ok: false, reason: 'JSON body must be an object' };
      } catch {
        return { ok: false, reason: 'malformed JSON body' };
      }
    } else {
      bodyPairs = [...new URLSearchParams(bodyText).entries()];
    }
  }
  const lines = (pairs: Array<[string, string]>) =>
    [date, req.method.toUpperCase(), host, req.path, canonicalParams(pairs)].join('\n');
  const params = pairsToParams([...req.queryPairs, ...bodyPairs]);

  const v5 = [lines(req.queryPairs), sha512Hex(req.body), duoHeadersHash(req.headers)].join('\n');
  if (hexEqual(sig, hmacHex(opts.skey, v5, 'sha512'))) return { ok: true, version: 5, params };

  if (!contentType.includes('application/json')) {
    const v2 = lines([...req.queryPairs, ...bodyPairs]);
    for (const digest of ['sha512', 'sha1'] as const) {
      if (hexEqual(sig, hmacHex(opts.skey, v2, digest))) return { ok: true, version: 2, params };
    }
  }
  return { ok: false, reason: 'signature mismatch' };
}
