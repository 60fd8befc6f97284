/**
 * Server-side signature check: accepts v2 (HMAC-SHA1 or SHA-512; params in query or form body) and v5
 * (query canon + SHA-512 of the raw body + SHA-512 of the x-duo-* headers). The date comes from X-Duo-Date,
 * else Date, and must be within ±maxSkewSec of real time.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { canonicalizeV2, canonicalizeV5, hmacHex } from '../duo/sign.js';

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
  const base = { date, method: req.method, host, path: req.path };

  // v5: x-duo-* headers as received (Node lower-cases names).
  const duoHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-duo-') && value !== undefined)
      duoHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  let v5: string | undefined;
  try {
    v5 = hmacHex(opts.skey, canonicalizeV5({ ...base, params: req.queryPairs, body: req.body, headers: duoHeaders }));
  } catch {
    v5 = undefined;
  }
  const params = pairsToParams([...req.queryPairs, ...bodyPairs]);
  if (v5 && hexEqual(sig, v5)) return { ok: true, version: 5, params };

  if (!contentType.includes('application/json')) {
    const canon = canonicalizeV2({ ...base, params: [...req.queryPairs, ...bodyPairs] });
    for (const digest of ['sha512', 'sha1'] as const) {
      if (hexEqual(sig, hmacHex(opts.skey, canon, digest))) return { ok: true, version: 2, params };
    }
  }
  return { ok: false, reason: 'signature mismatch' };
}
