/**
 * Duo request signing (pure functions, no I/O).
 *
 * v2: 5 canonical lines (date, METHOD, host, path, canonical params), HMAC-SHA512 (SHA1 kept for vectors).
 * v5: 7 lines (v2's five, then hex SHA-512 of the body bytes and hex SHA-512 of the x-duo-* header block),
 *     HMAC-SHA512 only. See the Duo Admin API reference, §1.
 */
import { createHash, createHmac } from 'node:crypto';

export type ParamValue = string | number | boolean | ReadonlyArray<string | number | boolean>;
export type DuoParams = Readonly<Record<string, ParamValue>>;
export type SignatureVersion = 2 | 5;
export type HmacDigest = 'sha1' | 'sha512';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** RFC 2822 date in UTC with English names, e.g. `Tue, 21 Aug 2012 17:29:18 -0000`. */
export function formatDuoDate(d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} -0000`
  );
}

/** RFC 3986 percent-encoding of UTF-8: only A-Z a-z 0-9 - . _ ~ are kept; hex is upper case; space is %20. */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function valueToString(v: string | number | boolean): string {
  return typeof v === 'string' ? v : String(v);
}

/** Flattens params into [key, value] string pairs (repeated keys for array values). */
export function paramPairs(params: DuoParams): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v))
      for (const item of v as ReadonlyArray<string | number | boolean>) out.push([k, valueToString(item)]);
    else out.push([k, valueToString(v as string | number | boolean)]);
  }
  return out;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Canonical parameter string: encode keys and values, sort by encoded key then encoded value,
 * join `k=v` pairs with `&`. Accepts a params object or a list of pairs (repeated keys allowed).
 */
export function canonParams(params: DuoParams | ReadonlyArray<readonly [string, string]>): string {
  const pairs = Array.isArray(params)
    ? (params as ReadonlyArray<readonly [string, string]>)
    : paramPairs(params as DuoParams);
  return pairs
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function sha512Hex(data: string | Uint8Array): string {
  return createHash('sha512').update(data).digest('hex');
}

/**
 * Hash of the x-duo-* header block: names lower-cased and sorted, flattened to name,value,… and NUL-joined.
 * Headers not starting with `x-duo-` are ignored. NUL bytes and duplicate names are rejected.
 */
export function hashDuoHeaders(headers: Readonly<Record<string, string>> = {}): string {
  const entries: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-duo-')) continue;
    if (lower.includes('\0') || value.includes('\0')) throw new Error(`header ${lower} contains a NUL byte`);
    if (seen.has(lower)) throw new Error(`duplicate header ${lower}`);
    seen.add(lower);
    entries.push([lower, value]);
  }
  entries.sort((a, b) => cmp(a[0], b[0]));
  return sha512Hex(entries.flat().join('\0'));
}

export interface CanonInput {
  date: string;
  method: string;
  host: string;
  /** Path as sent on the wire (already percent-encoded ids), without the query string. */
  path: string;
  /** v2: all params. v5: the query params only (callers pass none for POST/PUT/PATCH). */
  params?: DuoParams | ReadonlyArray<readonly [string, string]>;
}

export function canonicalizeV2(i: CanonInput): string {
  return [i.date, i.method.toUpperCase(), i.host.toLowerCase(), i.path, canonParams(i.params ?? {})].join('\n');
}

export interface CanonV5Input extends CanonInput {
  /** Exact body bytes sent ('' for GET/DELETE). */
  body?: string | Uint8Array;
  /** Request headers; only x-duo-* ones are hashed. */
  headers?: Readonly<Record<string, string>>;
}

export function canonicalizeV5(i: CanonV5Input): string {
  return [canonicalizeV2(i), sha512Hex(i.body ?? ''), hashDuoHeaders(i.headers ?? {})].join('\n');
}

export function hmacHex(skey: string, canon: string, digest: HmacDigest = 'sha512'): string {
  return createHmac(digest, skey).update(canon, 'utf8').digest('hex');
}

export function basicAuthorization(ikey: string, signatureHex: string): string {
  return `Basic ${Buffer.from(`${ikey}:${signatureHex}`, 'utf8').toString('base64')}`;
}

export interface SignInput extends CanonV5Input {
  ikey: string;
  skey: string;
  version: SignatureVersion;
  /** v2 only; v5 is always SHA-512. */
  digest?: HmacDigest;
}

export interface Signed {
  canonical: string;
  signature: string;
  authorization: string;
}

export function signRequest(i: SignInput): Signed {
  if (i.version === 5 && i.digest === 'sha1') throw new Error('signature v5 requires HMAC-SHA512');
  const canonical = i.version === 5 ? canonicalizeV5(i) : canonicalizeV2(i);
  const signature = hmacHex(i.skey, canonical, i.version === 5 ? 'sha512' : (i.digest ?? 'sha512'));
  return { canonical, signature, authorization: basicAuthorization(i.ikey, signature) };
}
